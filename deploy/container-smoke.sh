#!/usr/bin/env bash
# Builds the image and starts it against PostgreSQL in containers: `db upgrade` in a one-shot
# container, then `serve`, until its HEALTHCHECK command (/readyz) passes. Exits 0 having said
# why it skipped when no container engine answers (`docker info` / `podman info`) or the base
# images cannot be pulled; any failure after that is a real one (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."

engine=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then
    engine=$candidate
    break
  fi
done
if [ -z "$engine" ]; then
  echo "container check SKIPPED: no container engine answers (docker info / podman info failed);" \
    "the image was not built or started"
  exit 0
fi

python_image=$(sed -n 's/^FROM \(python:[^ ]*\) AS build$/\1/p' Dockerfile)
postgres_image=$(sed -n 's/^ *image: \(postgres:.*\)$/\1/p' deploy/compose.yaml)
for image in "$python_image" "$postgres_image"; do
  if ! "$engine" pull --quiet "$image" >/dev/null 2>&1; then
    echo "container check SKIPPED: $engine answers, but cannot pull $image;" \
      "the image was not built or started"
    exit 0
  fi
done

tag="kortkontor:ci-$$"
net="kortkontor-ci-$$"
pg="kortkontor-ci-pg-$$"
app="kortkontor-ci-serve-$$"
cleanup() {
  "$engine" rm --force "$app" "$pg" >/dev/null 2>&1 || true
  "$engine" network rm "$net" >/dev/null 2>&1 || true
  "$engine" rmi "$tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

build_options=()
# Podman writes OCI images by default, and OCI has no HEALTHCHECK.
[ "$engine" = podman ] && build_options+=(--format docker)
echo "container check: building $tag with $engine"
"$engine" build "${build_options[@]}" --tag "$tag" .

"$engine" network create "$net" >/dev/null
"$engine" run --detach --name "$pg" --network "$net" \
  --env POSTGRES_DB=kortkontor --env POSTGRES_USER=kortkontor --env POSTGRES_PASSWORD=ci \
  "$postgres_image" >/dev/null
for _ in $(seq 60); do
  "$engine" exec "$pg" pg_isready --username=kortkontor --dbname=kortkontor >/dev/null 2>&1 && break
  sleep 1
done

settings=(--network "$net"
  --env DATABASE_URL="postgresql://kortkontor:ci@$pg:5432/kortkontor"
  --env KORTKONTOR_SECRET_KEY="ci-only-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')")
"$engine" run --rm "${settings[@]}" "$tag" db upgrade
"$engine" run --detach --name "$app" "${settings[@]}" "$tag" serve >/dev/null

# The image's own HEALTHCHECK command, run inside the container, until /readyz answers 200.
health=$("$engine" image inspect --format '{{json .Config.Healthcheck.Test}}' "$tag")
case "$health" in *"/readyz"*) ;; *) echo "the image's HEALTHCHECK does not ask /readyz: $health"; exit 1 ;; esac
check=(python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('WEB_PORT', '8000') + '/readyz', timeout=8)")
for _ in $(seq 60); do
  if "$engine" exec "$app" "${check[@]}" >/dev/null 2>&1; then
    [ "$("$engine" exec "$app" id -u)" != 0 ] || { echo "the container runs as root"; exit 1; }
    echo "container check passed: the image served /readyz 200 against PostgreSQL, as a non-root user"
    exit 0
  fi
  sleep 2
done
echo "container check FAILED: /readyz never answered 200; the container's log:"
"$engine" logs "$app" 2>&1 | tail -50
exit 1
