#!/usr/bin/env bash
# Set up SyndiCMS on one fresh Debian 12 (bookworm) server, in one command:
#
#     sudo DOMAIN=news.example.org bash deploy/install.sh
#
# run from a checkout of the repository. It installs PostgreSQL, Redis, Python and Caddy
# with apt-get, creates the system user, the virtualenv and the database, writes the settings
# to /etc/syndicms/syndicms.env (once; a generated SECRET_KEY is kept across runs), migrates,
# collects static files, and starts four systemd units: the web server (gunicorn), the task
# worker, and a timer that queues due feed imports every five minutes. Caddy answers on
# ports 80/443 and obtains the HTTPS certificate itself, so DOMAIN must already point here.
#
# Running it again upgrades: the code is copied anew, migrations and collectstatic run, and
# the services restart. Optional variables: APP_USER (syndicms), PREFIX (/srv/syndicms),
# PROXY (caddy, nginx or none; nginx installs deploy/nginx.conf, certificates are yours).
set -euo pipefail

DOMAIN=${DOMAIN:?set DOMAIN to the host name of the site, e.g. DOMAIN=news.example.org}
APP_USER=${APP_USER:-syndicms}
PREFIX=${PREFIX:-/srv/syndicms}
PROXY=${PROXY:-caddy}
APP_DIR=$PREFIX/app
VENV=$PREFIX/venv
MEDIA_ROOT=$PREFIX/media
STATIC_ROOT=$PREFIX/static
ENV_FILE=/etc/syndicms/syndicms.env
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNITS=(syndicms-web.service syndicms-worker.service syndicms-feeds.service syndicms-feeds.timer)

step() { printf '\n==> %s\n' "$*"; }
fail() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

# Fill the @PLACEHOLDERS@ of a template from deploy/ and write it to its destination.
render() {
	sed -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@VENV@|$VENV|g" -e "s|@USER@|$APP_USER|g" \
		-e "s|@ENV_FILE@|$ENV_FILE|g" -e "s|@MEDIA_ROOT@|$MEDIA_ROOT|g" -e "s|@DOMAIN@|$DOMAIN|g" \
		"$1" >"$2"
}

# manage.py as the application user, with the production settings.
manage() {
	(
		set -a
		# shellcheck source=/dev/null
		. "$ENV_FILE"
		set +a
		cd "$APP_DIR"
		runuser -u "$APP_USER" -- "$VENV/bin/python" manage.py "$@"
	)
}

[[ $EUID -eq 0 ]] || fail "run it as root (sudo)"
[[ -f $SOURCE_DIR/manage.py ]] || fail "run it from a checkout of the repository"
[[ $DOMAIN =~ ^[A-Za-z0-9.-]+$ ]] || fail "DOMAIN must be a bare host name, e.g. news.example.org"
case $PROXY in caddy | nginx | none) ;; *) fail "PROXY must be caddy, nginx or none" ;; esac

step "Packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-dev build-essential \
	postgresql redis-server rsync curl ca-certificates
[[ $PROXY == none ]] || apt-get install -y -qq "$PROXY"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || fail "Python 3.11+ is required"

step "System user $APP_USER and folders under $PREFIX"
id -u "$APP_USER" >/dev/null 2>&1 ||
	useradd --system --home-dir "$PREFIX" --no-create-home --shell /usr/sbin/nologin "$APP_USER"
install -d -m 755 "$PREFIX"
install -d -o "$APP_USER" -g "$APP_USER" -m 755 "$MEDIA_ROOT" "$STATIC_ROOT"

step "Code in $APP_DIR (owned by root: the application cannot change itself)"
if [[ $SOURCE_DIR != "$APP_DIR" ]]; then
	rsync -a --delete --exclude .git --exclude .venv --exclude var --exclude node_modules \
		--exclude __pycache__ --exclude '*.egg-info' "$SOURCE_DIR/" "$APP_DIR/"
fi
chown -R root:root "$APP_DIR"

step "Virtualenv in $VENV"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
# Editable, so the settings find templates/ and static/ beside the code.
"$VENV/bin/pip" install --quiet -e "$APP_DIR"

step "PostgreSQL database $APP_USER (peer authentication over the local socket: no password)"
systemctl enable --now postgresql
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'" | grep -q 1; then
	runuser -u postgres -- createuser "$APP_USER"
fi
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$APP_USER'" | grep -q 1; then
	runuser -u postgres -- createdb --owner "$APP_USER" "$APP_USER"
fi

step "Redis"
systemctl enable --now redis-server

step "Settings in $ENV_FILE"
install -d -m 755 "$(dirname "$ENV_FILE")"
if [[ ! -f $ENV_FILE ]]; then
	secret_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')
	cat >"$ENV_FILE" <<EOF
# SyndiCMS production settings; docs/deploy.md explains every variable.
DJANGO_SETTINGS_MODULE=config.settings.prod
SECRET_KEY=$secret_key
ALLOWED_HOSTS=$DOMAIN
CSRF_TRUSTED_ORIGINS=https://$DOMAIN
SITE_URL=https://$DOMAIN
DATABASE_URL=postgres:///$APP_USER
CONN_MAX_AGE=60
CACHE_URL=redis://127.0.0.1:6379/0
REDIS_URL=redis://127.0.0.1:6379/1
TASKS_BACKEND=django_tasks_db.DatabaseBackend
MEDIA_ROOT=$MEDIA_ROOT
STATIC_ROOT=$STATIC_ROOT
BIND=127.0.0.1:8000
TRUSTED_PROXY_COUNT=1
EOF
	echo "written, with a new SECRET_KEY"
else
	echo "kept as it is"
fi
chown root:"$APP_USER" "$ENV_FILE"
chmod 640 "$ENV_FILE"

step "Database tables, static files and the deployment checklist"
manage migrate --noinput
manage collectstatic --noinput --verbosity 0
manage check --deploy --fail-level WARNING

step "systemd units: ${UNITS[*]}"
for unit in "${UNITS[@]}"; do
	render "$SOURCE_DIR/deploy/systemd/$unit" "/etc/systemd/system/$unit"
done
systemctl daemon-reload
systemctl enable syndicms-web.service syndicms-worker.service syndicms-feeds.timer
systemctl restart syndicms-web.service syndicms-worker.service
systemctl start syndicms-feeds.timer

case $PROXY in
caddy)
	step "Caddy for https://$DOMAIN"
	[[ ! -f /etc/caddy/Caddyfile ]] || grep -q SyndiCMS /etc/caddy/Caddyfile ||
		cp /etc/caddy/Caddyfile "/etc/caddy/Caddyfile.before-syndicms"
	render "$SOURCE_DIR/deploy/Caddyfile" /etc/caddy/Caddyfile
	caddy validate --adapter caddyfile --config /etc/caddy/Caddyfile >/dev/null
	systemctl enable caddy
	systemctl reload-or-restart caddy
	;;
nginx)
	step "nginx for $DOMAIN"
	sed -e "s|news.example.org|$DOMAIN|g" -e "s|/srv/syndicms/media/|$MEDIA_ROOT/|g" \
		"$SOURCE_DIR/deploy/nginx.conf" >/etc/nginx/sites-available/syndicms
	ln -sf /etc/nginx/sites-available/syndicms /etc/nginx/sites-enabled/syndicms
	echo "Get a certificate (e.g. certbot --nginx -d $DOMAIN), then: nginx -t && systemctl reload nginx"
	;;
none) ;;
esac

step "Health"
for _ in $(seq 1 30); do
	if curl -fsS http://127.0.0.1:8000/healthz; then
		printf '\n\nSyndiCMS is running. Create the first account with:\n'
		printf '  sudo bash -c "set -a; . %s; cd %s && runuser -u %s -- %s/bin/python manage.py createsuperuser"\n' \
			"$ENV_FILE" "$APP_DIR" "$APP_USER" "$VENV"
		exit 0
	fi
	sleep 1
done
journalctl -u syndicms-web.service -n 50 --no-pager >&2 || true
fail "the web service did not answer /healthz; its log is above"
