-- SESSION=… QUERY=… [CODES_OUT=prefix] wrk -t2 -c100 -d10s -s bench/wrk/oidc_authorize.lua http://127.0.0.1:9090
-- GET /oauth/authorize for a signed-in user whose consent is remembered:
-- every answer must be a 303 back to the client with a code. With
-- CODES_OUT, each thread writes the codes it got to CODES_OUT.<thread>
-- (one per line) for oidc_token.lua.
local common = dofile("bench/wrk/common.lua")
local threads = {}
local counter = 0

function setup(thread)
  common.setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init()
  common.init()
  codes = {}
  local out = os.getenv("CODES_OUT")
  if out then
    file = io.open(out .. "." .. id, "w")
  end
end

response = function(status, headers)
  local location = headers["Location"] or ""
  local code = string.match(location, "[?&]code=([^&]+)")
  if status ~= 303 or not code then
    errors = errors + 1
    return
  end
  if file then
    file:write(code, "\n")
  end
end

done = common.done
wrk.method = "GET"
wrk.path = "/oauth/authorize?" .. (os.getenv("QUERY") or "")
wrk.headers["Cookie"] = "throng_session=" .. (os.getenv("SESSION") or "")
