# Shared by the benchmarks (sourced, not run): a throwaway PostgreSQL cluster and the API, on 127.0.0.1 only,
# stopped and removed on exit (KEEP=1 keeps the folder). The caller sets $work to a fresh folder first.
# Sets bin, pg_port, api_port, as_postgres, psql (for the database rectify_bench); defines start_cluster, build_api,
# start_api, stop_api, new_key.

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || bin=$(dirname "$(command -v initdb)")
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
api_port=$(free_port)
# PostgreSQL refuses to run as root: the cluster runs as the postgres system user.
as_postgres=()
[ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
api_pid=""
psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d rectify_bench)

cleanup() {
  stop_api
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# start_cluster [-c name=value …]: initdb, start on loopback with the given server settings, create rectify_bench.
start_cluster() {
  mkdir -p "$work/data"
  [ "$(id -u)" = 0 ] && chown postgres "$work" "$work/data"
  "${as_postgres[@]}" "$bin/initdb" -D "$work/data" -U postgres -A trust >/dev/null
  "${as_postgres[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$work $*" start >/dev/null
  psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE rectify_bench"
}

# build_api: builds the API in Release under $work and sets dll to its Rectify.Api.dll; with API_DLL set (a built
# Rectify.Api.dll, e.g. from a benchmark that calls another), uses that instead.
build_api() {
  if [ -n "${API_DLL:-}" ]; then dll=$API_DLL; return; fi
  timeout 900 dotnet build src/Rectify.Api -c Release --artifacts-path "$work/artifacts" -v quiet -nologo >/dev/null
  dll=$(ls "$work"/artifacts/bin/Rectify.Api/release*/Rectify.Api.dll | head -n 1)
}

# start_api DLL [NAME=value …]: runs the API against rectify_bench (migrations, no demo data) and waits until ready.
start_api() {
  local dll=$1
  shift
  env ConnectionStrings__Rectify="Host=127.0.0.1;Port=$pg_port;Database=rectify_bench;Username=postgres" \
    Database__LoadDemoData=false Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production "$@" \
    dotnet "$dll" --urls "http://127.0.0.1:$api_port" >"$work/api.log" 2>&1 &
  api_pid=$!
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$api_port/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "http://127.0.0.1:$api_port/health/ready" >/dev/null || { cat "$work/api.log"; exit 1; }
}

# stop_api: stops the API started by start_api (the cluster keeps running).
stop_api() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  api_pid=""
}

# new_key: a benchmark client's key in the service's format (rfy_<prefix>_<secret>) and the SHA-256 the service stores.
new_key() {
  read -r key_prefix api_key key_hash < <(python3 -c '
import secrets, base64, hashlib
prefix = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
key = "rfy_" + prefix + "_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
print(prefix, key, hashlib.sha256(key.encode()).hexdigest())')
}
