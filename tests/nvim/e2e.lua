-- Driven by tests/nvim.rs: Neovim (0.7.2 or newer, headless) loads editors/nvim/lcc.lua, opens
-- a model, waits for the diagnostics of `lcc lsp`, asks it for one definition and writes what it
-- got to a file, one tab-separated record a line:
--
--   on_attach   <client name>  <file>                    (from the on_attach option, each time)
--   attached    <client name>
--   diagnostic  <severity>  <line>  <column>  <message>       (1-based, in the order of position)
--   definition  <file>      <line>  <column>  <text of that line>
--   restarted   <lcc clients of the buffer after :LccRestart>  <diagnostics of the new one>
--   error       <what went wrong>
--   done
--
-- Inputs, from the environment: LCC_NVIM_MODULE (editors/nvim/lcc.lua), LCC_BIN (the lcc
-- binary), LCC_MODEL (the model), LCC_OUT (the output file), LCC_DEFINITION_AT (`line:column`,
-- 1-based, where to ask for the definition), LCC_MIN_DIAGNOSTICS (how many diagnostics to wait
-- for, default 1) and LCC_TIMEOUT_MS (the longest wait for each step, default 20000).

local env = function(name, default)
  local value = os.getenv(name)
  if value == nil or value == '' then
    if default == nil then
      error('environment variable ' .. name .. ' is not set')
    end
    return default
  end
  return value
end

-- record and run: tests/nvim/harness.lua, next to this script.
local harness = dofile((os.getenv('LCC_SCRIPT'):gsub('[^/]*$', '')) .. 'harness.lua')
local record = harness.record

local severities = { 'error', 'warning', 'information', 'hint' }

local function lcc_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = 'lcc' })
  end
  local found = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == 'lcc' then
      table.insert(found, client)
    end
  end
  return found
end

local function initialized(bufnr)
  for _, client in ipairs(lcc_clients(bufnr)) do
    if client.initialized then
      return client
    end
  end
  return nil
end

-- A Location or LocationLink, whichever the server answered, as (file, 0-based line, character).
local function target_of(result)
  if result == nil then
    return nil
  end
  if result.uri == nil and result.targetUri == nil then
    result = result[1] -- a list of them
    if result == nil then
      return nil
    end
  end
  local uri = result.targetUri or result.uri
  local range = result.targetSelectionRange or result.range
  return vim.uri_to_fname(uri), range.start.line, range.start.character
end

local function main()
  local timeout = tonumber(env('LCC_TIMEOUT_MS', '20000'))
  local min_diagnostics = tonumber(env('LCC_MIN_DIAGNOSTICS', '1'))

  local lcc = dofile(env('LCC_NVIM_MODULE'))
  lcc.setup({
    cmd = { env('LCC_BIN'), 'lsp' },
    on_attach = function(client, bufnr)
      record('on_attach', client.name, vim.api.nvim_buf_get_name(bufnr))
    end,
  })
  vim.cmd('edit ' .. vim.fn.fnameescape(env('LCC_MODEL')))
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].filetype ~= 'lcc' then
    error('the model did not get the lcc filetype but ' .. vim.inspect(vim.bo[bufnr].filetype))
  end

  local client
  vim.wait(timeout, function()
    client = initialized(bufnr)
    return client ~= nil
  end, 20)
  if client == nil then
    error('no lcc client attached to the buffer within ' .. timeout .. ' ms')
  end
  record('attached', client.name)

  -- Diagnostics come in one publishDiagnostics per document version; wait for the expected
  -- number, then a little longer so that an extra one would be seen too.
  if not vim.wait(timeout, function()
    return #vim.diagnostic.get(bufnr) >= min_diagnostics
  end, 20) then
    record('error', 'timed out waiting for diagnostics')
  end
  vim.wait(300, function()
    return false
  end, 20)
  local diagnostics = vim.diagnostic.get(bufnr)
  table.sort(diagnostics, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  for _, d in ipairs(diagnostics) do
    record('diagnostic', severities[d.severity] or d.severity, d.lnum + 1, d.col + 1, d.message)
  end

  local line, column = env('LCC_DEFINITION_AT'):match('^(%d+):(%d+)$')
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = tonumber(line) - 1, character = tonumber(column) - 1 },
  }
  local responses, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/definition', params, timeout)
  if responses == nil then
    error('textDocument/definition: ' .. tostring(err))
  end
  local response = responses[client.id]
  if response == nil then
    error('textDocument/definition: no response from the lcc client')
  end
  if response.err or response.error then
    error('textDocument/definition: ' .. vim.inspect(response.err or response.error))
  end
  local file, target_line, character = target_of(response.result)
  if file == nil then
    record('definition', 'none', 0, 0, '')
  else
    local lines = vim.fn.readfile(file)
    record('definition', file, target_line + 1, character + 1, lines[target_line + 1] or '')
  end

  -- :LccRestart stops the server and attaches a new one, which publishes the diagnostics again.
  vim.cmd('LccRestart')
  local restarted
  vim.wait(timeout, function()
    restarted = initialized(bufnr)
    return restarted ~= nil and restarted.id ~= client.id
  end, 20)
  if restarted == nil or restarted.id == client.id then
    error(':LccRestart: no new lcc client attached within ' .. timeout .. ' ms')
  end
  local namespace = vim.lsp.diagnostic.get_namespace(restarted.id)
  vim.wait(timeout, function()
    return #vim.diagnostic.get(bufnr, { namespace = namespace }) >= min_diagnostics
  end, 20)
  record('restarted', #lcc_clients(bufnr), #vim.diagnostic.get(bufnr, { namespace = namespace }))
  record('done')
end

harness.run(main)
