package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
init = function(args) c.seed() end
request = function()
  local body = string.format('{"customer_id": %d, "attribute_name": "%s", "attribute_value": "v%d"}',
    math.random(1, c.customers), c.names[math.random(1, #c.names)], math.random(1, 1000))
  return wrk.format("POST", "/upsert", {["Content-Type"] = "application/json"}, body)
end
