-- Shared by the Throng wrk scripts: count answers outside 2xx/3xx per
-- thread and report them at the end, so a wrong answer never passes for a
-- success. Load with: local common = dofile("bench/wrk/common.lua")
local M = {}
local threads = {}

function M.setup(thread)
  table.insert(threads, thread)
end

function M.init()
  errors = 0
end

function M.response(status)
  if status < 200 or status >= 400 then
    errors = errors + 1
  end
end

function M.done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("errors")
  end
  io.write(string.format("throng: %d requests, %d answers outside 2xx/3xx (errors), p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, bad, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

return M
