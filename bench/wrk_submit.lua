-- wrk_submit.lua - wrk script of bench_api.sh: every request is one durable
-- submit, POST /v1/jobs with the JSON body in the file $BENCH_SUBMIT_BODY
-- ({"spec": "<yaml>", "file": "..."}); the bearer token comes as wrk -H.
local f = assert(io.open(os.getenv("BENCH_SUBMIT_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
