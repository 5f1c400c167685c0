-- BASIC=… REDIRECT=… CODES=prefix THREADS=n wrk -t<n> -c100 -d10s -s bench/wrk/oidc_token.lua http://127.0.0.1:9090
-- POST /oauth/token: each request exchanges the next unused code of the
-- files oidc_authorize.lua wrote (CODES.0 …), thread i reading every
-- n-th line. A code is good once: when they run out, requests repeat the
-- last one and count as errors, so a run must be short enough for the
-- codes it has. Only a 200 with an id_token counts.
local common = dofile("bench/wrk/common.lua")
local counter = 0

function setup(thread)
  common.setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init()
  common.init()
  codes = {}
  local prefix = os.getenv("CODES")
  local n = tonumber(os.getenv("THREADS") or "1")
  local i = 0
  for f = 0, 63 do
    local file = io.open(prefix .. "." .. f, "r")
    if not file then break end
    for line in file:lines() do
      if i % n == id then
        table.insert(codes, line)
      end
      i = i + 1
    end
    file:close()
  end
  next_code = 1
  redirect = urlencode(os.getenv("REDIRECT") or "")
end

request = function()
  local code = codes[next_code] or "spent"
  next_code = next_code + 1
  local body = "grant_type=authorization_code&redirect_uri=" .. redirect .. "&code=" .. code
  return wrk.format("POST", "/oauth/token", {
    ["Authorization"] = "Basic " .. (os.getenv("BASIC") or ""),
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"id_token"', 1, true) then
    errors = errors + 1
  end
end

done = common.done
