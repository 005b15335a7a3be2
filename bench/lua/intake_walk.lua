-- A patient's complete request, per wrk connection: the six step POSTs of the
-- MRI review request with one session, then again with a new session.
-- Run with as many threads as connections (-t N -c N): a wrk thread's Lua state
-- is then one connection's state (wrk calls response() before the next request()).
--
--   wrk -t16 -c16 -d20s -s lua/intake_walk.lua http://127.0.0.1:PORT -- DATA.lua RUN_TAG
--
-- DATA.lua (written by bench/run.py from tests/intake/helpers.py) returns the
-- cookie names and the steps {path, next, body}; the contact body carries
-- @@EMAIL@@, @@PHONE@@, @@DOB@@ so each submission is a new patient.
-- Cookies: the CSRF cookie comes from one GET of the blank form per connection
-- (a browser keeps it); the session cookie from the first POST's Set-Cookie.
-- wrk keeps one value per header name, so a response setting two cookies
-- would hide one: the flow below never needs two from one response.

local threads = {}
local next_id = 1

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   data = dofile(args[1])
   tag = args[2] or "run"
   csrf = nil
   session = nil
   step = 1
   n = 0
   submissions, posts, gets, errors = 0, 0, 0, 0
   last_error = ""
   math.randomseed(tid * 7919 + os.time())
end

local function esc(s)
   return (s:gsub("%%", "%%%%"))
end

local function fill(body)
   n = n + 1
   local email = string.format("w.%s.%d.%d%%40example.com", tag, tid, n)
   local phone = string.format("%%28312%%29+2%02d-%04d", math.random(0, 99), math.random(0, 9999))
   local dob = string.format("%d-%02d-%02d", math.random(1940, 1999), math.random(1, 12), math.random(1, 28))
   body = body:gsub("@@EMAIL@@", esc(email)):gsub("@@PHONE@@", esc(phone)):gsub("@@DOB@@", esc(dob))
   return body
end

function request()
   if csrf == nil then
      return wrk.format("GET", data.start_path)
   end
   local s = data.steps[step]
   local body = s.body
   if s.identity then
      body = fill(body)
   end
   body = body .. "&csrfmiddlewaretoken=" .. csrf
   local cookie = data.csrf_cookie .. "=" .. csrf
   if session ~= nil then
      cookie = cookie .. "; " .. data.session_cookie .. "=" .. session
   end
   local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-CSRFToken"] = csrf,
      ["Cookie"] = cookie,
   }
   return wrk.format("POST", s.path, headers, body)
end

local function cookie_value(headers, name)
   local sc = headers["Set-Cookie"] or headers["set-cookie"]
   if sc == nil then
      return nil
   end
   return sc:match(name:gsub("%-", "%%-") .. "=([^;]*)")
end

function response(status, headers, body)
   if csrf == nil then
      gets = gets + 1
      local v = cookie_value(headers, data.csrf_cookie)
      if status == 200 and v ~= nil and v ~= "" then
         csrf = v
      else
         errors = errors + 1
         last_error = "GET " .. status
      end
      return
   end
   posts = posts + 1
   local v = cookie_value(headers, data.session_cookie)
   if v ~= nil and v ~= "" then
      session = v
   end
   local c = cookie_value(headers, data.csrf_cookie)
   if c ~= nil and c ~= "" then
      csrf = c
   end
   local s = data.steps[step]
   local loc = headers["Location"] or headers["location"] or ""
   if status == 302 and loc:sub(-#s.next) == s.next then
      if step == #data.steps then
         submissions = submissions + 1
         step = 1
         session = nil
      else
         step = step + 1
      end
   else
      errors = errors + 1
      last_error = s.path .. " " .. status .. " -> " .. loc
      step = 1
      session = nil
   end
end

function done(summary, latency, requests)
   local t = { submissions = 0, posts = 0, gets = 0, errors = 0 }
   local last = ""
   for _, th in ipairs(threads) do
      for k, _ in pairs(t) do
         t[k] = t[k] + (th:get(k) or 0)
      end
      local e = th:get("last_error")
      if e ~= nil and e ~= "" then
         last = e
      end
   end
   io.write(string.format(
      'BENCH_JSON {"submissions": %d, "posts": %d, "gets": %d, "errors": %d, "duration_us": %d, "last_error": "%s"}\n',
      t.submissions, t.posts, t.gets, t.errors, summary.duration, last:gsub('"', "'")))
end
