#!/usr/bin/env bash
# Build LM Workbench as a double-click app for this OS (Linux or macOS; Windows: build.ps1).
#
#   packaging/build.sh            build dist/lm-workbench/ and the installers for this OS
#   packaging/build.sh --check    build the folder, run the frozen self-test from a moved copy (a
#                                 path with spaces and non-ASCII letters), measure size and first
#                                 paint, print one line of figures; exit 1 when over budget
#   packaging/build.sh --check --no-build   the same checks on the folder already in dist/
#
# Needs the project installed in the Python it runs (`pip install -e ".[packaging]"`, with CPU torch
# for a small download: `pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`).
# Outputs, in dist/:
#   Linux: lm-workbench/ (the app), lm-workbench-VERSION-linux-ARCH.tar.gz, and
#          LM_Workbench-VERSION-ARCH.AppImage when `appimagetool` is on PATH (else the AppDir).
#   macOS: LM Workbench.app and lm-workbench-VERSION-macos-ARCH.dmg; signed when
#          MACOS_SIGN_IDENTITY is set, notarised when APPLE_ID, APPLE_TEAM_ID and
#          APPLE_APP_PASSWORD are set too.
# Environment: PYTHON (default python3), DIST (default dist), BUILD (default build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DIST="$(mkdir -p "${DIST:-$ROOT/dist}" && cd "${DIST:-$ROOT/dist}" && pwd)"
BUILD="${BUILD:-$ROOT/build}"
MAX_DISK_MB=800 MAX_DOWNLOAD_MB=300 MAX_FIRST_PAINT_S=3.0

CHECK=0 BUILD_APP=1
for arg in "$@"; do
    case "$arg" in
        --check) CHECK=1 ;;
        --no-build) BUILD_APP=0 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "error: unknown option $arg (see packaging/build.sh --help)" >&2; exit 2 ;;
    esac
done

VERSION="$("$PYTHON" -c 'import workbench; print(workbench.__version__)')"
APP_ID="$("$PYTHON" -c 'import workbench; print(workbench.APP_ID)')"
ARCH="$(uname -m)"
APP_DIR="$DIST/$APP_ID"
case "$(uname -s)" in Darwin) OS=macos ;; Linux) OS=linux ;; *) echo "error: use build.ps1 on Windows" >&2; exit 2 ;; esac

say() { printf '==> %s\n' "$*" >&2; }
mb() { echo $(( ($1 + 524288) / 1048576 )); }
bytes_of() { if [ "$OS" = macos ]; then echo $(( $(du -sk "$1" | cut -f1) * 1024 )); else du -sb "$1" | cut -f1; fi; }

freeze() {
    say "PyInstaller: $APP_DIR (lm-workbench $VERSION, $OS $ARCH)"
    "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$DIST" --workpath "$BUILD/pyinstaller" "$ROOT/packaging/lm-workbench.spec"
    if [ "$OS" = linux ] && command -v strip > /dev/null; then
        # torch, Qt and Python ship their libraries with symbol tables (85 MB in libtorch_cpu.so).
        # Only theirs: libraries that auditwheel patched (numpy's, pyarrow's, Pillow's) no longer load
        # once stripped. build.sh --check then proves the stripped app still works.
        say "stripping the libraries of torch, Qt and Python"
        local internal="$APP_DIR/_internal" folders=() folder
        for folder in "$internal/torch/lib" "$internal/PySide6" "$internal/shiboken6" "$internal"/python3.*; do
            if [ -d "$folder" ]; then folders+=("$folder"); fi
        done
        find "${folders[@]}" -name '*.so*' -type f -exec strip --strip-unneeded {} +
        find "$internal" -maxdepth 1 \( -name 'libpython3*.so*' -o -name 'libQt6*.so*' \) -type f \
            -exec strip --strip-unneeded {} +
    fi
}

tarball() {  # the plain archive of the folder: the compressed-download figure
    local out="$DIST/$APP_ID-$VERSION-$OS-$ARCH.tar.gz"
    say "archive: $out"
    tar -C "$DIST" -cf - "$APP_ID" | gzip -6 > "$out"
    echo "$out"
}

appimage() {
    local appdir="$BUILD/AppDir"
    say "AppDir: $appdir"
    rm -rf "$appdir" && mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" \
        "$appdir/usr/share/icons/hicolor/256x256/apps"
    cp -a "$APP_DIR" "$appdir/usr/lib/$APP_ID"
    install -m 755 "$ROOT/packaging/linux/AppRun" "$appdir/AppRun"
    sed "s|^Exec=.*|Exec=$APP_ID %f|" "$ROOT/resources/lm-workbench.desktop" > "$appdir/$APP_ID.desktop"
    cp "$appdir/$APP_ID.desktop" "$appdir/usr/share/applications/"
    cp "$ROOT/resources/lm-workbench-256.png" "$appdir/$APP_ID.png"
    cp "$ROOT/resources/lm-workbench-256.png" "$appdir/usr/share/icons/hicolor/256x256/apps/$APP_ID.png"
    ln -sf "$APP_ID.png" "$appdir/.DirIcon"
    if command -v appimagetool > /dev/null; then
        local out="$DIST/LM_Workbench-$VERSION-$ARCH.AppImage"
        ARCH="$ARCH" appimagetool --comp zstd "$appdir" "$out" >&2
        say "AppImage: $out"
    else
        say "appimagetool not found: left the AppDir ($appdir); the release workflow installs appimagetool"
    fi
}

mac_installer() {
    local app="$DIST/LM Workbench.app" dmg="$DIST/$APP_ID-$VERSION-macos-$ARCH.dmg"
    if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
        say "signing with $MACOS_SIGN_IDENTITY"
        codesign --deep --force --timestamp --options runtime \
            --entitlements "$ROOT/packaging/macos/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$app"
    fi
    say "disk image: $dmg"
    local stage="$BUILD/dmg" && rm -rf "$stage" && mkdir -p "$stage"
    cp -R "$app" "$stage/" && ln -s /Applications "$stage/Applications"
    rm -f "$dmg" && hdiutil create -volname "LM Workbench" -srcfolder "$stage" -format UDZO -ov "$dmg" >&2
    if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] \
            && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
        say "notarising $dmg"
        codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
        xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_PASSWORD" --wait
        xcrun stapler staple "$dmg"
    fi
    echo "$dmg"
}

executable() { echo "$1/$APP_ID"; }
limited() {  # `timeout SECONDS COMMAND...` where there is one (macOS has none)
    if command -v timeout > /dev/null; then timeout "$@"; else shift; "$@"; fi
}

MOVED="" MOVED_ROOT=""
put_back() {  # the moved copy goes back to dist/ whatever happens during the check
    if [ -n "$MOVED" ] && [ -d "$MOVED" ]; then mv "$MOVED" "$APP_DIR"; fi
    if [ -n "$MOVED_ROOT" ]; then rm -rf "$MOVED_ROOT"; fi
}

check() {  # self-test and first paint from a moved copy whose path has spaces and non-ASCII letters
    local archive="$1" status=0
    MOVED_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/lm wörkbench check.XXXXXX")"
    MOVED="$MOVED_ROOT/Mein Ordner ü/$APP_ID"
    trap put_back EXIT
    mkdir -p "$(dirname "$MOVED")" && mv "$APP_DIR" "$MOVED"
    local moved="$MOVED"
    local exe home; exe="$(executable "$moved")"; home="$MOVED_ROOT/home"
    say "frozen self-test from $moved"
    local selftest=passed
    if ! WORKBENCH_HOME="$home" QT_QPA_PLATFORM=offscreen "$exe" --self-test >&2; then
        echo "error: the frozen self-test failed" >&2; status=1 selftest=FAILED
    fi
    local parquet=skipped table="$MOVED_ROOT/rows.parquet"  # pyarrow is trimmed in the spec: prove Parquet still reads
    if "$PYTHON" -c 'import sys, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"text": ["first row of text", "second row of text"] * 50}), sys.argv[1])' "$table" 2>/dev/null; then
        say "Parquet import with the frozen app"
        if WORKBENCH_HOME="$home" "$exe" new "$MOVED_ROOT/p.wbproj" > /dev/null \
                && WORKBENCH_HOME="$home" "$exe" import "$MOVED_ROOT/p.wbproj" "$table" --name rows >&2; then
            parquet=passed
        else
            parquet=FAILED status=1
        fi
    fi
    say "torchrun from the bundle: two workers, each the app's own command line"
    local torchrun=FAILED workers
    workers="$(WORKBENCH_HOME="$home" limited 180 "$exe" -m torch.distributed.run --standalone --nproc-per-node 2 \
        -m workbench --version 2> /dev/null | grep -c '^lm-workbench ' || true)"
    if [ "$workers" = 2 ]; then torchrun=passed; else status=1; fi
    say "the demo opens (first paint of \`--demo\`, then close)"
    local demo=FAILED
    if WORKBENCH_HOME="$home" WORKBENCH_STARTUP_PROBE=1 QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" \
            limited 300 "$exe" --demo | grep -q '^first-paint '; then
        demo=passed
    else
        status=1
    fi
    say "first paint (median of 5) from $moved"
    local paint_json paint
    paint_json="$(WORKBENCH_HOME="$home" "$PYTHON" "$ROOT/bench/bench_startup.py" --exe "$exe" --runs 5 --json | tail -1)"
    paint="$(printf '%s' "$paint_json" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["empty_s"])')"
    local disk download
    disk="$(bytes_of "$moved")"; download="$(stat -c %s "$archive" 2>/dev/null || stat -f %z "$archive")"
    "$PYTHON" - "$disk" "$download" "$paint" "$status" "$MAX_DISK_MB" "$MAX_DOWNLOAD_MB" "$MAX_FIRST_PAINT_S" \
            "$parquet" "$selftest" "$demo" "$torchrun" <<'EOF'
import sys
disk, download, paint, status = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
max_disk, max_download, max_paint, parquet = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
selftest, demo, torchrun = sys.argv[9], sys.argv[10], sys.argv[11]
ok = status == 0 and disk <= max_disk * 2**20 and download <= max_download * 2**20 and paint <= max_paint
print(f"check {'passed' if ok else 'FAILED'} (from a moved copy in a path with spaces and non-ASCII letters): "
      f"self-test {selftest}, --demo {demo}, Parquet import {parquet}, torchrun {torchrun}, "
      f"{disk / 2**20:.0f} MB on disk (budget {max_disk}), {download / 2**20:.0f} MB tar.gz (budget {max_download}), "
      f"first paint {paint:.2f} s median of 5 (budget {max_paint:.1f})")
sys.exit(0 if ok else 1)
EOF
}

main() {  # a function, so that bash has read the whole script before it runs (safe to edit while it builds)
    if [ "$BUILD_APP" = 1 ]; then
        freeze
    elif [ ! -d "$APP_DIR" ]; then
        echo "error: --no-build needs a built app in $APP_DIR" >&2; exit 2
    fi
    archive="$(tarball)"
    if [ "$CHECK" = 0 ]; then
        if [ "$OS" = linux ]; then appimage; else mac_installer; fi
    fi
    say "$(mb "$(bytes_of "$APP_DIR")") MB on disk, $(mb "$(stat -c %s "$archive" 2>/dev/null || stat -f %z "$archive")") MB as $(basename "$archive")"
    if [ "$CHECK" = 1 ]; then
        check "$archive"
    fi
}

main; exit $?
