-- wrk script of the benchmark (run with one thread: -t1).
--   BENCH_AUTH     value of the Authorization header (optional)
--   BENCH_COOKIE   value of the Cookie header (optional: the console's session)
--   BENCH_NUMBERS  file of "e164,country" lines: every request is then a purchase POST of
--                  the next number of the list (wrapping around at its end)
-- At the end it prints one line "BENCH_JSON {...}" that bench/run.py reads.

local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

local list = os.getenv("BENCH_NUMBERS")
if list and list ~= "" then
  local bodies = {}
  for line in io.lines(list) do
    local e164, country = line:match("^([^,]+),([^,]+)$")
    if e164 then
      bodies[#bodies + 1] = string.format('{"e164":"%s","country":"%s"}', e164, country)
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local next_body = 1
  request = function()
    local body = bodies[next_body]
    next_body = next_body % #bodies + 1
    return wrk.format(nil, nil, nil, body)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "non_2xx": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
