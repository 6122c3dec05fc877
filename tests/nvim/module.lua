-- Driven by tests/nvim.rs: editors/nvim/lcc.lua without a language server. In a directory tree
-- made by the test (LCC_TREE, holding project/.git, project/sub/model.lcc, project/sub/model.xlcc,
-- project/sub/model.im and loose/model.lcc), it records, one tab-separated record a line:
--
--   filetype   <file>  <filetype>  <commentstring>
--   root       <file>  <root directory>
--   notify     <level> <message>         (each vim.notify of the module)
--   clients    <number of lcc clients>
--   error      <what went wrong>
--   done
--
-- `cmd` names a binary that does not exist, so opening the models must not start anything and
-- must say once what to set.

-- record and run: tests/nvim/harness.lua, next to this script.
local harness = dofile((os.getenv('LCC_SCRIPT'):gsub('[^/]*$', '')) .. 'harness.lua')
local record = harness.record

local function main()
  local tree = os.getenv('LCC_TREE')
  vim.notify = function(message, level)
    record('notify', level, message)
  end

  -- An unknown option and a wrongly typed one are refused with a message that names them.
  local lcc = dofile(os.getenv('LCC_NVIM_MODULE'))
  for _, bad in ipairs({ { cmnd = { 'lcc' } }, { cmd = 'lcc lsp' } }) do
    local ok, message = pcall(lcc.setup, bad)
    record('setup-error', ok, message)
  end

  lcc.setup({ cmd = { tree .. '/no-such-lcc', 'lsp' } })
  for _, file in ipairs({
    tree .. '/project/sub/model.lcc',
    tree .. '/project/sub/model.xlcc',
    tree .. '/project/sub/model.im',
    tree .. '/loose/model.lcc',
  }) do
    vim.cmd('edit ' .. vim.fn.fnameescape(file))
    record('filetype', file, vim.bo.filetype, vim.bo.commentstring)
    record('root', file, lcc.root_dir(file))
  end
  local count = 0
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  for _, client in ipairs(get()) do
    if client.name == 'lcc' then
      count = count + 1
    end
  end
  record('clients', count)
  record('done')
end

harness.run(main)
