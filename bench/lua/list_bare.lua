package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
init = function(args) c.seed() end
request = function()
  return wrk.format("GET", "/attributes/" .. math.random(1, c.customers))
end
