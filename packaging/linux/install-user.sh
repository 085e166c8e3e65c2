#!/usr/bin/env bash
# Install a built bundle for the current user: menu entry, icon, `image-classifier` on PATH.
#
#   bash packaging/linux/install-user.sh [dist/ImageClassifier]      # uninstall: --uninstall
#
# Copies the one-folder build to ~/.local/opt/ImageClassifier, links the
# executable into ~/.local/bin, and installs the desktop entry and the icons
# under ~/.local/share (XDG locations; nothing outside $HOME is touched).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/ImageClassifier"
bin="$HOME/.local/bin/image-classifier"
targets=("$data/applications/image-classifier.desktop"
         "$data/icons/hicolor/256x256/apps/image-classifier.png"
         "$data/icons/hicolor/scalable/apps/image-classifier.svg")

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$opt"; rm -f "$bin" "${targets[@]}"
    echo "removed Image Classifier from $HOME/.local"
    exit 0
fi

bundle="$(cd "${1:-$repo/dist/ImageClassifier}" && pwd)"
[ -x "$bundle/image-classifier" ] || { echo "no executable in $bundle: build it first" >&2; exit 1; }
mkdir -p "$(dirname "$opt")" "$(dirname "$bin")" "${targets[@]%/*}"
rm -rf "$opt" && cp -a "$bundle" "$opt"
ln -sfn "$opt/image-classifier" "$bin"
sed "s|^Exec=image-classifier|Exec=$opt/image-classifier|; s|^TryExec=.*|TryExec=$opt/image-classifier|" \
    "$here/image-classifier.desktop" > "${targets[0]}"
cp "$repo/assets/icons/image-classifier.png" "${targets[1]}"
cp "$repo/assets/icons/image-classifier.svg" "${targets[2]}"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "installed: $opt (command: $bin; menu entry: ${targets[0]})"
