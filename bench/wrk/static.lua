-- wrk -t2 -c1000 -d30s -s bench/wrk/static.lua http://127.0.0.1:9090
-- GET /login: the static log-in page.
local common = dofile("bench/wrk/common.lua")
setup = common.setup
init = common.init
done = common.done
response = function(status) common.response(status) end
wrk.method = "GET"
wrk.path = "/login"
