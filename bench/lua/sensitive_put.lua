-- PUT one name (BENCH_NAME) on a random customer of [BENCH_OFFSET + 1, BENCH_OFFSET + BENCH_CUSTOMERS]: bench/sensitive.py
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
local offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
init = function(args) c.seed() end
request = function()
  local body = string.format('{"customer_id": %d, "attribute_name": "%s", "attribute_value": "sk_bench_%d"}',
    offset + math.random(1, c.customers), c.name, math.random(1, 1000000))
  return wrk.format("PUT", "/crm/attribute/", {["Authorization"] = "Bearer " .. c.token,
                    ["Content-Type"] = "application/json"}, body)
end
