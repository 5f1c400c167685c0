-- ACCESS_TOKEN=… wrk -t2 -c100 -d10s -s bench/wrk/oidc_userinfo.lua http://127.0.0.1:9090
-- GET /oauth/userinfo with a Bearer access token (bench/oidc.py gets one
-- through the code flow). Only 200 counts.
local common = dofile("bench/wrk/common.lua")
setup = common.setup
init = common.init
done = common.done
response = function(status)
  if status ~= 200 then
    errors = errors + 1
  end
end
wrk.method = "GET"
wrk.path = "/oauth/userinfo"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("ACCESS_TOKEN") or "")
