-- wrk script of the national benchmark: GET requests built from a template and a random row of a list file.
--
-- Environment:
--   BENCH_PATH    path template, e.g. /api/v1/measures/{1} or /api/v1/indicators/{1}/series?unit={2}
--   BENCH_LIST    file of rows, fields separated by tabs; {n} in the templates is field n of a row drawn at random
--                 for each request (no list: the path is sent as it is)
--   BENCH_KEY     API key sent as "Authorization: Bearer …" (none: no Authorization header)
--   BENCH_HEADER  one more header template, e.g. "If-None-Match: {2}"
-- At the end it prints one line, "WRK_RESULT {json}": requests, duration (µs), errors, p50 and p99 (µs).

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local rows = {}
local template, header_name, header_template
local fixed_headers = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(fields, field) end
  return fields
end

local function fill(text, fields)
  return (text:gsub("{(%d+)}", function(n) return fields[tonumber(n)] or "" end))
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
  template = os.getenv("BENCH_PATH") or "/"
  local list = os.getenv("BENCH_LIST")
  if list and list ~= "" then
    for line in io.lines(list) do
      if line ~= "" then table.insert(rows, split(line)) end
    end
    assert(#rows > 0, "BENCH_LIST " .. list .. " has no rows")
  end
  local key = os.getenv("BENCH_KEY")
  if key and key ~= "" then fixed_headers["Authorization"] = "Bearer " .. key end
  fixed_headers["Accept"] = "application/json"
  local header = os.getenv("BENCH_HEADER")
  if header and header ~= "" then
    header_name, header_template = header:match("^([^:]+):%s*(.*)$")
  end
end

function request()
  local fields = #rows > 0 and rows[math.random(#rows)] or {}
  local headers = fixed_headers
  if header_name then
    headers = {}
    for k, v in pairs(fixed_headers) do headers[k] = v end
    headers[header_name] = fill(header_template, fields)
  end
  return wrk.format("GET", fill(template, fields), headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
