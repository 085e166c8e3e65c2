#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle and prove it works; non-zero when it is broken.
#
#   bash scripts/build_bundle.sh              # uses `python` (the active venv); PYTHON=... to override
#   REQUIRE_X11=1 bash scripts/build_bundle.sh  # CI: the X11 start and every Qt plugin's libraries must pass
#
# Steps: pyinstaller build.spec -> dist/ImageClassifier/, then through the BUILT
# executable (never the source tree): --version, --self-test (offscreen Qt),
# `classify` over assets/samples into a CSV, `teach` a tiny model from generated
# folders and classify with it (packaging/check_bundle_teach.py), a GUI start that must stay up,
# a start on a real X server (Xvfb + xdotool: packaging/check_x11_start.py; skipped
# without them unless REQUIRE_X11=1), and the listing check (no
# TensorFlow/Keras/tf2onnx/onnx/torch/matplotlib/jax, no unused Qt module,
# required parts present, every bundled Qt plugin's libraries resolve, size
# within the budget).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"
BUNDLE="dist/ImageClassifier"
EXE="$BUNDLE/image-classifier"
export QT_QPA_PLATFORM=offscreen  # headless smoke tests; the GUI check below uses it too
start=$SECONDS

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
    echo "PyInstaller is missing: pip install -e '.[build]'" >&2
    exit 2
fi

step "PyInstaller $("$PYTHON" -m PyInstaller --version): building $BUNDLE"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN build.spec
[ -x "$EXE" ] || fail "no executable at $EXE"
echo "built in $((SECONDS - start)) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
exe="$(cd "$BUNDLE" && pwd)/image-classifier"
root="$(pwd)"

step "--version"
expected="$("$PYTHON" -c 'import desktop_app; print(desktop_app.__version__)')"
version="$(cd "$work" && "$exe" --version)"
echo "$version"
[[ "$version" == *"$expected"* ]] || fail "--version printed '$version', expected version $expected"

step "--self-test (from another working directory)"
(cd "$work" && timeout 120 "$exe" --self-test) || fail "--self-test exited with $?"

step "classify assets/samples"
samples="$(cd assets/samples && pwd)"
expected_rows=$(find "$samples" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | wc -l)
(cd "$work" && timeout 120 "$exe" classify "$samples" --csv "$work/samples.csv") || fail "classify exited with $?"
rows=$("$PYTHON" -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=""))))' "$work/samples.csv")
echo "CSV rows: $rows (images: $expected_rows)"
[ "$rows" -eq "$expected_rows" ] || fail "classify wrote $rows rows for $expected_rows images"
bad=$("$PYTHON" -c 'import csv, sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1], newline="")) if r["error"] or not r["label"]))' "$work/samples.csv")
[ "$bad" -eq 0 ] || fail "$bad sample images were not classified"

step "teach a tiny model from generated folders, classify with it"
(cd "$work" && timeout 300 "$PYTHON" "$root/packaging/check_bundle_teach.py" "$exe") || fail "the packaged build cannot teach"

step "GUI start (offscreen): must stay up for 6 s without a traceback"
(cd "$work" && exec "$exe" "$samples/cat/cat_720p.jpg" >"$work/gui.log" 2>&1) &
gui=$!
sleep 6
if ! kill -0 "$gui" 2>/dev/null; then
    cat "$work/gui.log" >&2
    fail "the GUI exited early"
fi
kill "$gui"; wait "$gui" 2>/dev/null || true
if grep -q "Traceback" "$work/gui.log"; then
    cat "$work/gui.log" >&2
    fail "the GUI printed a traceback"
fi
echo "GUI stayed up"

step "GUI start on a real X server (Xvfb, xcb): window visible, stays up"
if [ "${REQUIRE_X11:-0}" = 1 ] || { command -v Xvfb && command -v xdotool; } >/dev/null 2>&1; then
    (cd "$work" && env -u QT_QPA_PLATFORM "$PYTHON" "$root/packaging/check_x11_start.py" -- "$exe" "$samples/cat/cat_720p.jpg") \
        || fail "the packaged app does not start on an X server (see above)"
else
    echo "skipped: Xvfb/xdotool not installed (apt-get install xvfb xdotool; CI sets REQUIRE_X11=1)"
fi

step "bundle listing and size"
check_args=()
[ "${REQUIRE_X11:-0}" = 1 ] && check_args+=(--require-plugin-libraries)
"$PYTHON" packaging/check_bundle.py "$BUNDLE" ${check_args[@]+"${check_args[@]}"}
du -sh "$BUNDLE"

printf '\nOK: bundle built and smoke-tested in %d s\n' "$((SECONDS - start))"
