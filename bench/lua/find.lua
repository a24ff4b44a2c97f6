package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
request = function()
  return wrk.format("GET", "/crm/customer/?attribute_name=" .. c.name .. "&attribute_value=" .. c.value .. "&limit=100",
                    {["Authorization"] = "Bearer " .. c.token})
end
