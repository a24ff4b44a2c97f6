-- GET the attributes of a random customer of [BENCH_OFFSET + 1, BENCH_OFFSET + BENCH_CUSTOMERS]: bench/sensitive.py
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
init = function(args) c.seed() end
request = function()
  return wrk.format("GET", "/crm/attribute/customer_id/" .. (offset + math.random(1, c.customers)),
                    {["Authorization"] = "Bearer " .. c.token})
end
