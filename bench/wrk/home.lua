-- SESSION=$(…) wrk -t2 -c1000 -d30s -s bench/wrk/home.lua http://127.0.0.1:9090
-- GET /home with the session cookie in $SESSION (a token from a log-in;
-- bench/http-vs-nginx.sh gets one with curl). A 303 back to /login would
-- mean the session is gone: for this script only 200 counts.
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
wrk.path = "/home"
wrk.headers["Cookie"] = "throng_session=" .. (os.getenv("SESSION") or "")
