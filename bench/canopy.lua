-- wrk script: each thread posts its own slice of distinct signed bodies.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local n = 0
  for line in io.lines(os.getenv("BODIES")) do
    n = n + 1
    -- Thread k takes every line with index ≡ k (mod thread count).
    if (n - 1) % tonumber(os.getenv("THREADS")) == id then
      bodies[#bodies + 1] = line
    end
  end
  i = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local auth = os.getenv("AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
end

function request()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format(nil, nil, nil, bodies[i])
end
