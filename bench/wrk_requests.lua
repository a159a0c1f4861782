-- Replays pre-generated requests, each one at most once (bench/wrkrun.py writes the file).
-- File: one request per line, "<path>\t<body>", always POSTed.
-- Script arguments (after `--` on the wrk command line): <file> <requests per thread> <stop|wrap>
--   stop: a thread that has sent its whole slice stops, so no request is ever repeated (the bot);
--   wrap: start the slice again (the bare baseline, which does not care about repeats).

local threads = {}
local next_id = 0

-- runs in the main state, once per thread, before that thread's init()
function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- per-thread counters; globals so done() can read them with thread:get()
sent, ok, other, exhausted = 0, 0, 0, 0

local slice = {}
local cursor = 0
local wrap = false

function init(args)
   local path, per_thread = args[1], tonumber(args[2])
   wrap = args[3] == "wrap"
   -- each thread keeps only its own contiguous slice, so two threads never send the same request
   local first, last = id * per_thread + 1, (id + 1) * per_thread
   local headers = { ["Content-Type"] = "text/xml; charset=utf-8" }
   local n = 0
   for line in io.lines(path) do
      n = n + 1
      if n > last then break end
      if n >= first then
         local tab = line:find("\t", 1, true)
         -- format once here so request() costs nothing but a table lookup
         slice[#slice + 1] = wrk.format("POST", line:sub(1, tab - 1), headers, line:sub(tab + 1))
      end
   end
end

function request()
   if cursor >= #slice then
      if not wrap then
         exhausted = 1
         wrk.thread:stop()
         -- wrk needs something to write; a health check repeats no check-in
         return wrk.format("GET", "/healthz")
      end
      cursor = 0
   end
   cursor = cursor + 1
   sent = sent + 1
   return slice[cursor]
end

function response(status, headers, body)
   if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local totals = { sent = 0, ok = 0, other = 0, exhausted = 0 }
   for _, thread in ipairs(threads) do
      for name, value in pairs(totals) do
         totals[name] = value + thread:get(name)
      end
   end
   io.write(string.format("BENCH sent=%d ok=%d other=%d exhausted=%d\n",
                          totals.sent, totals.ok, totals.other, totals.exhausted))
end
