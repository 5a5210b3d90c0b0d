#!/usr/bin/env bash
# Build dist/hotpot-hq_VERSION_amd64.deb: HQ in its own venv under /opt/hotpot-hq (Debian's python3, the same
# library versions the test suite ran with), a system user, the systemd units, the nginx site, logrotate, the
# monitoring files, and /etc/hotpot-hq/env. Built with dpkg-deb, checked with lintian. Run by `make dist`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PKG=hotpot-hq
PREFIX=/opt/hotpot-hq
VERSION="$(/usr/bin/python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
BUILD="$ROOT/dist/build"
STAGE="$BUILD/$PKG"
DEB="$ROOT/dist/${PKG}_${VERSION}_amd64.deb"
DEV_PIP="$ROOT/.venv/bin/pip"
# What HQ imports (sync.hq and sync.protocol; tests/unit/test_architecture.py keeps it so), at the versions of .venv.
HQ_REQUIREMENTS=(fastapi "uvicorn[standard]" "psycopg[binary]" psycopg-pool PyJWT prometheus-client yoyo-migrations
                 segno Jinja2 rapidfuzz anyascii msgspec cryptography bip32 coincurve)

rm -rf "$STAGE" "$BUILD/wheels"
mkdir -p "$STAGE$PREFIX" "$BUILD/wheels"
echo "dist: building the hotpotspot wheel"
"$DEV_PIP" wheel -q --no-deps -w "$BUILD/wheels" "$ROOT"
"$DEV_PIP" freeze --exclude-editable | grep -v '^-e ' > "$BUILD/constraints.txt"

echo "dist: the HQ venv (Debian's python3) in $PREFIX/venv"
/usr/bin/python3 -m venv "$STAGE$PREFIX/venv"
V="$STAGE$PREFIX/venv"
quiet() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }  # a machine's pip.conf noise
"$V/bin/pip" install -q --disable-pip-version-check --no-compile -c "$BUILD/constraints.txt" "${HQ_REQUIREMENTS[@]}" \
  2> >(quiet)
"$V/bin/pip" install -q --disable-pip-version-check --no-compile --no-deps "$BUILD"/wheels/hotpotspot-*.whl 2> >(quiet)
"$V/bin/pip" uninstall -q -y pip setuptools >/dev/null 2>&1 || true
# The venv was made at the staging path: point it at its installed one.
for f in "$V"/bin/*; do
  if [ -f "$f" ] && [ ! -L "$f" ] && head -c 2 "$f" | grep -q '#!'; then
    sed -i "1s|^#!.*/python[0-9.]*$|#!$PREFIX/venv/bin/python3|" "$f"
  fi
done
rm -f "$V"/bin/activate* "$V"/bin/Activate.ps1 "$V"/bin/hotpot-terminal
find "$V" -name '__pycache__' -prune -exec rm -rf {} +
find "$V" -name 'RECORD' -path '*.dist-info/*' -exec sed -i "s|$STAGE||g" {} +
# Extension modules as Debian wants them: stripped, not executable. (Byte-compiling is postinst's job.)
find "$V" -name '*.so' -o -name '*.so.*' | while read -r so; do
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$so"
  chmod 0644 "$so"
done

install -d "$STAGE/usr/bin"
ln -s "$PREFIX/venv/bin/hotpot-hq" "$STAGE/usr/bin/hotpot-hq"
install -D -m 0644 packaging/hotpot-hq.service "$STAGE/lib/systemd/system/hotpot-hq.service"
install -D -m 0644 packaging/hotpot-hq-backup.service "$STAGE/lib/systemd/system/hotpot-hq-backup.service"
install -D -m 0644 packaging/hotpot-hq-backup.timer "$STAGE/lib/systemd/system/hotpot-hq-backup.timer"
install -D -m 0644 packaging/nginx-hotpot-hq.conf "$STAGE/etc/nginx/sites-available/hotpot-hq"
install -D -m 0640 packaging/deb/hq-env "$STAGE/etc/hotpot-hq/env"
install -D -m 0644 packaging/deb/hq-logrotate "$STAGE/etc/logrotate.d/hotpot-hq"
for f in prometheus.yml hotpot-hq-rules.yml hotpot-hq-rules.test.yml alertmanager.yml; do
  install -D -m 0644 "packaging/monitoring/$f" "$STAGE/usr/share/hotpot-hq/monitoring/$f"
done
cp -r packaging/monitoring/grafana "$STAGE/usr/share/hotpot-hq/monitoring/grafana"
install -D -m 0644 docs/operations.md "$STAGE/usr/share/doc/$PKG/operations.md"
install -D -m 0644 packaging/deb/copyright "$STAGE/usr/share/doc/$PKG/copyright"
printf '%s (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- HotPot Spot <ops@hotpotspot.invalid>  %s\n' \
  "$PKG" "$VERSION" "$VERSION" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}")" \
  | gzip -9n > "$STAGE/usr/share/doc/$PKG/changelog.gz"
install -D -m 0644 packaging/deb/hq-lintian-overrides "$STAGE/usr/share/lintian/overrides/$PKG"

install -d "$STAGE/DEBIAN"
SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" packaging/deb/hq-control > "$STAGE/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/hq-$script" "$STAGE/DEBIAN/$script"
done
printf '/etc/hotpot-hq/env\n/etc/logrotate.d/hotpot-hq\n/etc/nginx/sites-available/hotpot-hq\n' > "$STAGE/DEBIAN/conffiles"
find "$STAGE" -type d -exec chmod 0755 {} +
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)

dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "dist: built $DEB ($(du -h "$DEB" | cut -f1))"
if command -v lintian >/dev/null; then
  lintian --fail-on error "$DEB" 2> >(grep -v "running with root privileges" >&2)
  echo "dist: lintian found no error in $DEB"
fi
