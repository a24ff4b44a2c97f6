package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
init = function(args) c.seed() end
request = function()
  return wrk.format("GET", "/crm/attribute/customer_id/" .. math.random(1, c.customers),
                    {["Authorization"] = "Bearer " .. c.token})
end
