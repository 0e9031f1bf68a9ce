"""Unpacks the model layer zip into SAM's ARTIFACTS_DIR (which SAM zips again).

Keeps file modes, refuses entries that would land outside the directory, and refuses
symbolic links: SAM's packager follows them, so a link would be stored as a second copy of
its target (ONNX Runtime is ~30 MB) and count twice against Lambda's 250 MB limit.
Checks that the layer has the layout the functions expect: models/ (RAG_MODEL_DIR=/opt/models)
with models/lib/libonnxruntime.so.
"""

import os
import stat
import sys
import zipfile


def main(zip_path: str, dest: str) -> int:
    dest = os.path.realpath(dest)
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                sys.exit(f"unpack.py: {info.filename} is a symbolic link; store the file itself")
            target = os.path.realpath(os.path.join(dest, info.filename))
            if not target.startswith(dest + os.sep):
                sys.exit(f"unpack.py: {info.filename} escapes the layer directory")
            z.extract(info, dest)
            if mode and not info.is_dir():
                os.chmod(target, stat.S_IMODE(mode))
    lib = os.path.join(dest, "models", "lib", "libonnxruntime.so")
    if not os.path.isfile(lib):
        sys.exit(f"unpack.py: {zip_path} has no models/lib/libonnxruntime.so (the layer is mounted at /opt)")
    total = sum(
        os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(dest) for f in files
    )
    print(f"model layer: {total / 1e6:.1f} MB unzipped from {zip_path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: unpack.py LAYER.zip ARTIFACTS_DIR")
    sys.exit(main(sys.argv[1], sys.argv[2]))
