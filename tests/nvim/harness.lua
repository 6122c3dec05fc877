-- What the Neovim scripts of tests/nvim.rs share: writing tab-separated records to LCC_OUT, and
-- running the script's `main` so that any error becomes an `error` record and a non-zero exit.
local H = {}

local out = assert(io.open(os.getenv('LCC_OUT'), 'w'))

function H.record(...)
  local fields = { ... }
  for i, field in ipairs(fields) do
    fields[i] = tostring(field):gsub('[\t\n]', ' ')
  end
  out:write(table.concat(fields, '\t'), '\n')
  out:flush()
end

function H.run(main)
  local ok, failure = pcall(main)
  if not ok then
    H.record('error', failure)
    out:close()
    vim.cmd('cquit 1')
  else
    out:close()
    vim.cmd('qall!')
  end
end

return H
