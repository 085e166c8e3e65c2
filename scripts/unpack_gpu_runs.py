"""Join the parts that ``scripts/gpu_train_all.py`` packed and restore float32 run folders.

    python scripts/unpack_gpu_runs.py /work/.device/... --out runs

Every ``STEM.partNN`` group in the given folders is joined and extracted
(later folders win, so a second call's ``vgg-full`` parts replace the first
pack's int8 copy); each ``model.compact.weights.h5`` becomes a float32
``model.weights.h5`` beside its report.json. Re-evaluate afterwards with
``cifar-train evaluate runs/NAME --model NAME --data ...`` so the report
describes exactly the restored weights.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.compact_weights import restore  # noqa: E402


def unpack(folders: list[Path], out: Path) -> list[Path]:
    """Extract every part group of ``folders`` into ``out``; return the restored weights files."""
    restored = []
    for folder in folders:
        groups: dict[str, list[Path]] = defaultdict(list)
        for part in sorted(folder.glob("*.part[0-9][0-9]")):
            groups[part.name.rsplit(".part", 1)[0]].append(part)
        for stem, parts in sorted(groups.items()):
            data = b"".join(part.read_bytes() for part in parts)
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                tar.extractall(out, filter="data")
                names = tar.getnames()
            for name in names:
                if name.endswith("model.compact.weights.h5"):
                    source = out / name
                    restored.append(restore(source, source.with_name("model.weights.h5")))
                    source.unlink()
            print(f"{stem}: {len(parts)} part(s), {len(names)} file(s)")
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs"))
    args = parser.parse_args(argv)
    for path in unpack(args.folders, args.out):
        print(f"restored {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
