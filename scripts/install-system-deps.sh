#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages LawGrid needs, when they are missing:
# PostgreSQL with PostGIS (the embedded database), Chromium (browser tests), CJK fonts and
# Mosquitto and Redis (the MQTT and multi-process tests start their own), and poppler-utils
# (the document tests read rendered PDFs back with pdftotext).
# Idempotent and quick when everything is present. Without root it names what to install.
set -euo pipefail

have_postgis() { compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null; }
have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; }
have_chromium() { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }
have_mosquitto() { command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; }
have_redis() { command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; }
have_poppler() { command -v pdftotext >/dev/null; }
# (not `fc-list | grep -q`: under pipefail grep's early exit can fail the pipe with SIGPIPE)
have_cjk_font() { compgen -G "/usr/share/fonts/opentype/noto/Noto*CJK*" >/dev/null || fc-list 2>/dev/null | grep -i "noto.*cjk" >/dev/null; }

missing=()
have_postgres || missing+=(postgresql)
have_postgis || missing+=(postgis)
have_chromium || missing+=(chromium)
have_cjk_font || missing+=(fonts-noto-cjk)
have_mosquitto || missing+=(mosquitto)
have_redis || missing+=(redis-server)
have_poppler || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "LawGrid needs these system packages: ${missing[*]}" >&2
    echo "Install them as root, e.g.: sudo apt-get install postgresql postgresql-<version>-postgis-3 chromium fonts-noto-cjk mosquitto redis-server poppler-utils" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
echo "installing system packages: ${missing[*]}" >&2
apt-get update -qq >/dev/null
if ! have_postgres; then apt_install postgresql; fi
if ! have_postgis; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    apt_install "postgresql-${version}-postgis-3"
fi
if ! have_chromium; then apt_install chromium || apt_install chromium-browser; fi
if ! have_cjk_font; then apt_install fonts-noto-cjk fontconfig; fi
if ! have_mosquitto; then apt_install mosquitto; fi
if ! have_redis; then apt_install redis-server; fi
if ! have_poppler; then apt_install poppler-utils; fi
