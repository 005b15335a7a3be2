-- One fixed request, checked: counts responses whose status differs from the
-- expected one (wrk itself only counts non-2xx/3xx).
--
--   wrk -t16 -c16 -d20s -s lua/request.lua URL -- DATA.lua
--
-- DATA.lua returns {method=..., path=..., expect=..., headers={...}, body=...}.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   data = dofile(args[1])
   ok, bad = 0, 0
   last_status = 0
   req = wrk.format(data.method, data.path, data.headers or {}, data.body)
end

function request()
   return req
end

function response(status, headers, body)
   if status == data.expect then
      ok = ok + 1
   else
      bad = bad + 1
      last_status = status
   end
end

function done(summary, latency, requests)
   local ok_, bad_, last = 0, 0, 0
   for _, th in ipairs(threads) do
      ok_ = ok_ + th:get("ok")
      bad_ = bad_ + th:get("bad")
      if th:get("last_status") ~= 0 then
         last = th:get("last_status")
      end
   end
   io.write(string.format('BENCH_JSON {"ok": %d, "bad": %d, "last_bad_status": %d, "duration_us": %d}\n',
      ok_, bad_, last, summary.duration))
end
