#!/usr/bin/env bash
# Build the hotpot-terminal PyInstaller one-folder bundle (dist/bundle/hotpot-terminal) and
# dist/hotpot-terminal_VERSION_amd64.deb: the bundle in /opt/hotpot-terminal, the command on PATH, a desktop entry
# with its icon and a kiosk-style user service. Built with dpkg-deb, checked with lintian. Run by `make dist`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PKG=hotpot-terminal
PREFIX=/opt/hotpot-terminal
VERSION="$(/usr/bin/python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
BUILD="$ROOT/dist/build"
STAGE="$BUILD/$PKG"
DEB="$ROOT/dist/${PKG}_${VERSION}_amd64.deb"

if ! "$ROOT/.venv/bin/python" -c "import PyInstaller" 2>/dev/null; then
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check "pyinstaller>=6.10,<7" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2 || true)
fi
echo "dist: the PyInstaller bundle"
"$ROOT/.venv/bin/pyinstaller" --noconfirm --log-level ERROR --distpath "$ROOT/dist/bundle" \
  --workpath "$BUILD/pyinstaller" packaging/pyinstaller/hotpot-terminal.spec
BUNDLE="$ROOT/dist/bundle/hotpot-terminal"
"$BUNDLE/hotpot-terminal" --version

rm -rf "$STAGE"
install -d "$STAGE$PREFIX" "$STAGE/usr/bin"
cp -a "$BUNDLE/." "$STAGE$PREFIX/"
find "$STAGE$PREFIX" -type f \( -name '*.so' -o -name '*.so.*' \) -exec chmod 0644 {} +
ln -s "$PREFIX/hotpot-terminal" "$STAGE/usr/bin/hotpot-terminal"
install -D -m 0644 packaging/hotpot-terminal.desktop "$STAGE/usr/share/applications/hotpot-terminal.desktop"
install -D -m 0644 packaging/hotpot-terminal.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/hotpot-terminal.svg"
install -D -m 0644 packaging/hotpot-terminal-kiosk.service "$STAGE/usr/lib/systemd/user/hotpot-terminal-kiosk.service"
install -D -m 0644 packaging/deb/copyright "$STAGE/usr/share/doc/$PKG/copyright"
printf '%s (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- HotPot Spot <ops@hotpotspot.invalid>  %s\n' \
  "$PKG" "$VERSION" "$VERSION" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}")" \
  | gzip -9n > "$STAGE/usr/share/doc/$PKG/changelog.gz"
install -D -m 0644 packaging/deb/terminal-lintian-overrides "$STAGE/usr/share/lintian/overrides/$PKG"

install -d "$STAGE/DEBIAN"
SIZE="$(du -sk "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" packaging/deb/terminal-control > "$STAGE/DEBIAN/control"
for script in postinst postrm; do
  install -m 0755 "packaging/deb/terminal-$script" "$STAGE/DEBIAN/$script"
done
find "$STAGE" -type d -exec chmod 0755 {} +
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)

# gzip at level 6: xz would take minutes over half a gigabyte of Qt and OpenCV for a few percent less.
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$DEB" >/dev/null
echo "dist: built $DEB ($(du -h "$DEB" | cut -f1); $(du -sh "$BUNDLE" | cut -f1) installed)"
if command -v lintian >/dev/null; then
  lintian --fail-on error "$DEB" 2> >(grep -v "running with root privileges" >&2)
  echo "dist: lintian found no error in $DEB"
fi
