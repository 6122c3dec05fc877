--- LCC (Lightweight Coordination Calculus) for Neovim: the `lcc` filetype for `*.lcc`, `*.xlcc`
--- and `*.im`, and the language server `lcc lsp` attached to every such buffer.
---
---     require('lcc').setup()                                      -- `lcc` on PATH
---     require('lcc').setup({ cmd = { '/path/to/lcc', 'lsp' } })
---
--- Works on Neovim 0.7.2 and newer: it uses `vim.lsp.start` where it exists (0.8+) and
--- `vim.lsp.start_client` + `vim.lsp.buf_attach_client` otherwise, with one server per root
--- directory (the nearest directory above the file that holds one of `root_markers`, else the
--- file's own directory). `:LccRestart` restarts the servers. See editors/nvim/README.md.

local M = {}

local defaults = {
  -- The server command: the lcc binary and its `lsp` subcommand.
  cmd = { 'lcc', 'lsp' },
  -- File extensions that get the `lcc` filetype.
  extensions = { 'lcc', 'xlcc', 'im' },
  -- Files or directories that mark the root directory of a project.
  root_markers = { '.git' },
  -- Attach the server to LCC buffers as they are opened (else call `require('lcc').attach()`).
  autostart = true,
  -- Called as on_attach(client, bufnr) when the server attaches to a buffer: put keymaps here.
  on_attach = nil,
  -- Client capabilities (default: vim.lsp.protocol.make_client_capabilities()).
  capabilities = nil,
  -- Sent in `initialize` and `workspace/didChangeConfiguration`.
  init_options = nil,
  settings = nil,
}

M.config = vim.deepcopy(defaults)

local uv = vim.uv or vim.loop
local group = nil
-- Neovim < 0.8 only: root directory -> client id, so that buffers of one project share a server.
local clients_by_root = {}
local warned_missing = false

local function notify(message, level)
  vim.notify('lcc: ' .. message, level)
end

local function lcc_clients()
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local found = {}
  for _, client in ipairs(get()) do
    if client.name == 'lcc' then
      table.insert(found, client)
    end
  end
  return found
end

local function has_extension(name)
  for _, ext in ipairs(M.config.extensions) do
    if name:sub(-(#ext + 1)) == '.' .. ext then
      return true
    end
  end
  return false
end

--- The root directory for a file: the nearest directory at or above the file's directory that
--- holds one of `root_markers`, else the file's directory (the working directory for a buffer
--- without a file).
function M.root_dir(path)
  if path == nil or path == '' then
    return uv.cwd()
  end
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local current = dir
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if uv.fs_stat(current .. '/' .. marker) then
        return current
      end
    end
    local parent = vim.fn.fnamemodify(current, ':h')
    if parent == current then
      return dir
    end
    current = parent
  end
end

local function server_available()
  local exe = M.config.cmd[1]
  if vim.fn.executable(exe) == 1 then
    return true
  end
  if not warned_missing then
    warned_missing = true
    notify(
      string.format(
        "cannot start the language server: %q is not an executable. Install lcc or set `cmd`: "
          .. "require('lcc').setup({ cmd = { '/path/to/lcc', 'lsp' } })",
        exe
      ),
      vim.log.levels.ERROR
    )
  end
  return false
end

--- Starts (or reuses) the server for the buffer's root directory and attaches it to the buffer.
--- Returns the client id, or nil when the buffer is not a file or the server cannot start.
function M.attach(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name:match('^%a[%w+.-]*://') then
    return nil -- a URL buffer (fugitive://, …): no file, no project directory
  end
  if not server_available() then
    return nil
  end

  local root = M.root_dir(name)
  local config = {
    name = 'lcc',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    capabilities = M.config.capabilities or vim.lsp.protocol.make_client_capabilities(),
    on_attach = M.config.on_attach,
    init_options = M.config.init_options,
    settings = M.config.settings,
  }

  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end

  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if client == nil or client.is_stopped() then
    id = vim.lsp.start_client(config)
    clients_by_root[root] = id
  end
  if id == nil then
    return nil
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Stops every lcc server and attaches a new one to each loaded LCC buffer.
function M.restart()
  for _, client in ipairs(lcc_clients()) do
    vim.lsp.stop_client(client.id)
  end
  clients_by_root = {}
  warned_missing = false
  vim.wait(5000, function()
    return #lcc_clients() == 0
  end, 20)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype == 'lcc' then
      M.attach(bufnr)
    end
  end
end

local function on_filetype(bufnr)
  -- The comment syntax of LCC, for `gc`-style plugins, `gq` and comment continuation.
  vim.bo[bufnr].commentstring = '// %s'
  vim.bo[bufnr].comments = 's1:/*,mb:*,ex:*/,://,:%'
  if M.config.autostart then
    M.attach(bufnr)
  end
end

local function register_filetype()
  if vim.filetype and vim.filetype.add then
    local map = {}
    for _, ext in ipairs(M.config.extensions) do
      map[ext] = 'lcc'
    end
    vim.filetype.add({ extension = map })
  end
  if vim.fn.has('nvim-0.8') == 0 then
    -- Neovim 0.7 detects filetypes with filetype.vim unless `g:do_filetype_lua` is set.
    local patterns = {}
    for _, ext in ipairs(M.config.extensions) do
      table.insert(patterns, '*.' .. ext)
    end
    vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
      group = group,
      pattern = patterns,
      command = 'setfiletype lcc',
    })
  end
end

--- Registers the filetype, the autocommands and `:LccRestart`. `opts` overrides the defaults
--- at the top of this file; calling `setup` again replaces the previous configuration.
function M.setup(opts)
  opts = opts or {}
  if type(opts) ~= 'table' then
    error('lcc: setup() takes a table of options')
  end
  local kinds = {
    cmd = 'table',
    extensions = 'table',
    root_markers = 'table',
    autostart = 'boolean',
    on_attach = 'function',
    capabilities = 'table',
    init_options = 'table',
    settings = 'table',
  }
  for key, value in pairs(opts) do
    if kinds[key] == nil then
      error(string.format('lcc: unknown option %q', tostring(key)))
    elseif type(value) ~= kinds[key] then
      error(string.format('lcc: option %q must be a %s, not a %s', key, kinds[key], type(value)))
    end
  end
  -- A shallow merge: a list given in opts (cmd, extensions, root_markers) replaces the default.
  M.config = vim.deepcopy(defaults)
  for key, value in pairs(opts) do
    M.config[key] = value
  end
  if #M.config.cmd == 0 then
    error('lcc: `cmd` must name the lcc binary, e.g. { "lcc", "lsp" }')
  end
  warned_missing = false

  group = vim.api.nvim_create_augroup('lcc', { clear = true })
  register_filetype()
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'lcc',
    callback = function(args)
      on_filetype(args.buf)
    end,
  })
  vim.api.nvim_create_user_command('LccRestart', function()
    M.restart()
  end, { desc = 'Restart the lcc language server' })

  -- Buffers opened before setup: detect them now.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      if vim.bo[bufnr].filetype == 'lcc' then
        on_filetype(bufnr)
      elseif vim.bo[bufnr].filetype == '' and has_extension(vim.api.nvim_buf_get_name(bufnr)) then
        vim.bo[bufnr].filetype = 'lcc' -- runs the FileType autocommand
      end
    end
  end
  return M
end

return M
