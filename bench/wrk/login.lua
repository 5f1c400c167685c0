-- wrk -t2 -c1000 -d30s -s bench/wrk/login.lua http://127.0.0.1:9090
-- POST /login, cycling through the first USERS seeded users (default
-- 10,000; `bench seed`), keep-alive. A log-in answers 303; anything outside
-- 2xx/3xx is an error. The CSRF token is the same in cookie and field.
local common = dofile("bench/wrk/common.lua")
setup = common.setup
done = common.done
response = function(status) common.response(status) end

local users = tonumber(os.getenv("USERS") or "10000")
local pool = 100 -- bench/src/users.rs: DEFAULT_HASH_POOL
local csrf = "0123456789abcdef0123456789abcdef"
local n

init = function(args)
  common.init()
  n = math.random(users)
end

request = function()
  n = n % users + 1
  local body = string.format("csrf=%s&username=user%08d&password=seed-password-%04d", csrf, n, n % pool)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "throng_csrf=" .. csrf,
  }
  return wrk.format("POST", "/login", headers, body)
end
