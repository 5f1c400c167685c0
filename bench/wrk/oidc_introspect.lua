-- BASIC=… TOKEN=… wrk -t2 -c100 -d10s -s bench/wrk/oidc_introspect.lua http://127.0.0.1:9090
-- POST /oauth/introspect (RFC 7662) as a registered client (BASIC: the
-- base64 of "client_id:client_secret") about an access token. Only an
-- answer saying the token is active counts.
local common = dofile("bench/wrk/common.lua")
setup = common.setup
init = common.init
done = common.done
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"active":true', 1, true) then
    errors = errors + 1
  end
end
wrk.method = "POST"
wrk.path = "/oauth/introspect"
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BASIC") or "")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=" .. (os.getenv("TOKEN") or "")
