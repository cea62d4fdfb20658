--- dowse for Neovim (0.10 and later): starts `dowse lsp` for every
--- workspace root, and adds :Dowse search / usages / similar / health /
--- reindex / status on the editor protocol's custom requests (see
--- docs/protocol.md). Results go to the quickfix list, or to Telescope or
--- snacks.nvim pickers when one is installed. Indexing progress comes as
--- standard `$/progress` (the `LspProgress` event, `vim.lsp.status()`);
--- `require('dowse').statusline()` shows the index state.

local M = {}

local defaults = {
  --- The server command.
  cmd = { 'dowse', 'lsp' },
  --- Files that mark a workspace root, nearest first; without one, the
  --- current directory is the root.
  root_markers = { 'dowse.toml', '.git', '.hg', 'Cargo.toml', 'pyproject.toml' },
  --- Buffers of these filetypes get the server; `nil`: every file buffer.
  filetypes = nil,
  --- Server settings (the keys of dowse.toml), as initializationOptions.
  settings = {},
  --- 'auto' (Telescope, then snacks.nvim, then quickfix), 'telescope',
  --- 'snacks' or 'quickfix'.
  picker = 'auto',
  --- Results asked for by :Dowse search.
  limit = 30,
  --- Echo indexing progress (LspProgress) in the command line.
  progress = true,
}

M.config = vim.deepcopy(defaults)

--- The last `dowse/status` of each client, by client id.
local statuses = {}

local function notify(message, level)
  vim.notify('dowse: ' .. message, level or vim.log.levels.INFO)
end

local has_011 = vim.fn.has('nvim-0.11') == 1

local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function root_for(path)
  local start = path ~= '' and vim.fs.dirname(path) or vim.fn.getcwd()
  local found = vim.fs.find(M.config.root_markers, { path = start, upward = true })[1]
  return found and vim.fs.dirname(found) or vim.fn.getcwd()
end

local function attach(bufnr)
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a+://') then
    return
  end
  local ft = vim.bo[bufnr].filetype
  if M.config.filetypes and not vim.tbl_contains(M.config.filetypes, ft) then
    return
  end
  local root = root_for(name)
  vim.lsp.start({
    name = 'dowse',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    init_options = M.config.settings,
    handlers = {
      ['dowse/status'] = function(_, params, ctx)
        statuses[ctx.client_id] = params
        vim.api.nvim_exec_autocmds('User', { pattern = 'DowseStatus', modeline = false })
      end,
    },
  }, { bufnr = bufnr })
end

--- Starts the server for every file buffer (one per root), now and later.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup('dowse', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'FileType' }, {
    group = group,
    callback = function(args)
      attach(args.buf)
    end,
  })
  if M.config.progress then
    vim.api.nvim_create_autocmd('LspProgress', {
      group = group,
      callback = function(args)
        local client = vim.lsp.get_client_by_id(args.data.client_id)
        local value = args.data.params and args.data.params.value
        if not client or client.name ~= 'dowse' or type(value) ~= 'table' then
          return
        end
        local text = value.kind == 'end' and 'indexed'
          or ((value.message or value.title or '') .. (value.percentage and (' ' .. value.percentage .. '%') or ''))
        vim.api.nvim_echo({ { 'dowse: ' .. text } }, false, {})
      end,
    })
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      attach(bufnr)
    end
  end
end

local function clients()
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  return get({ name = 'dowse' })
end

--- The client for the current buffer, else the one whose root holds the
--- current directory, else any.
function M.client()
  local all = clients()
  local bufnr = vim.api.nvim_get_current_buf()
  for _, client in ipairs(all) do
    if client.attached_buffers and client.attached_buffers[bufnr] then
      return client
    end
  end
  local cwd = vim.fn.getcwd()
  for _, client in ipairs(all) do
    if client.config.root_dir and vim.startswith(cwd, client.config.root_dir) then
      return client
    end
  end
  return all[1]
end

local function with_client(fn)
  local client = M.client()
  if not client then
    notify('no server running: open a file of the workspace (after require("dowse").setup{})', vim.log.levels.WARN)
    return
  end
  fn(client)
end

--- The index state of the current client, in a few words (for a statusline).
function M.statusline()
  local client = M.client()
  local status = client and statuses[client.id]
  if not status then
    return client and 'dowse: starting' or ''
  end
  if status.phase == 'indexing' and status.work and status.work.total > 0 then
    return string.format('dowse: indexing %d%%', math.floor(status.work.done * 100 / status.work.total))
  end
  if status.phase == 'embedding' then
    return string.format('dowse: %d%% by meaning', math.floor(status.coverage * 100))
  end
  if status.degraded then
    return 'dowse: keywords only'
  end
  return 'dowse: ' .. status.phase
end

--- The last `dowse/status` of the current client (a table), or nil.
function M.status()
  local client = M.client()
  return client and statuses[client.id]
end

--- Quickfix items, in the server's order, with `text` as given (columns
--- converted from the negotiated position encoding).
local function items_of(client, places)
  local out = {}
  for _, place in ipairs(places) do
    if place.uri == '' then
      -- A team index result: no local file, its place in the text.
      table.insert(out, { text = place.text, valid = 0 })
    else
      local location = { uri = place.uri, range = place.range }
      local item = vim.lsp.util.locations_to_items({ location }, client.offset_encoding or 'utf-16')[1]
      if item then
        item.text = place.text
        table.insert(out, item)
      end
    end
  end
  return out
end

local function show(title, items)
  local picker = M.config.picker
  if #items == 0 then
    notify(title .. ': nothing found')
    return
  end
  if (picker == 'auto' or picker == 'telescope') and pcall(require, 'telescope') then
    local pickers = require('telescope.pickers')
    local finders = require('telescope.finders')
    local conf = require('telescope.config').values
    pickers
      .new({}, {
        prompt_title = title,
        finder = finders.new_table({
          results = items,
          entry_maker = function(item)
            return {
              value = item,
              display = string.format('%s:%d  %s', vim.fn.fnamemodify(item.filename, ':.'), item.lnum, item.text),
              ordinal = item.filename .. ' ' .. item.text,
              filename = item.filename,
              lnum = item.lnum,
              col = item.col,
            }
          end,
        }),
        sorter = conf.generic_sorter({}),
        previewer = conf.qflist_previewer({}),
      })
      :find()
    return
  end
  if (picker == 'auto' or picker == 'snacks') and _G.Snacks and Snacks.picker then
    local list = {}
    for i, item in ipairs(items) do
      table.insert(list, { idx = i, score = #items - i, text = item.text, file = item.filename, pos = { item.lnum, item.col - 1 } })
    end
    Snacks.picker.pick({ title = title, items = list, format = 'file', preview = 'file' })
    return
  end
  vim.fn.setqflist({}, ' ', { title = title, items = items })
  vim.cmd('botright copen')
  vim.cmd('wincmd p')
end

local function hit_text(hit)
  local name = hit.symbol or (hit.kind .. ', line ' .. hit.startLine)
  local first = vim.trim((vim.split(hit.snippet, '\n', { plain = true })[1] or ''))
  local more = ''
  if (hit.moreInFile or 0) > 0 then
    more = '  (+' .. hit.moreInFile .. ' more in this file)'
  end
  local from = ''
  if hit.repo then
    from = hit.repo .. '//' .. hit.path .. ':' .. hit.startLine .. '  '
  end
  return from .. name .. '  ' .. first .. more
end

--- Sends `method` to the current client (for its current buffer):
--- `params(client)` makes the parameters; a failure is said as `what:
--- message` at `level`; the answer goes to `on_done` when one is given
--- (the API for other plugins), else to `present(client, answer)`.
local function ask(method, params, what, level, on_done, present)
  with_client(function(client)
    request(client, method, params(client), function(err, answer)
      if err then
        notify(what .. ': ' .. err.message, level)
        return
      end
      if on_done then
        return on_done(answer)
      end
      present(client, answer)
    end, 0)
  end)
end

--- Picker places of search results, one line of text each.
local function result_places(results)
  local places = {}
  for _, hit in ipairs(results) do
    table.insert(places, { uri = hit.uri, range = hit.range, text = hit_text(hit) })
  end
  return places
end

--- Searches the index (unsaved buffers included). `opts.mode`:
--- 'hybrid' (default), 'lexical' or 'semantic'; `opts.lang`: a language
--- name or a list of them ('typescript', {'go', 'java'}); `opts.scope`:
--- 'local' (default), 'team' (the team index) or 'all' (both); `opts.path`:
--- only results under this directory or in this file (every match of a
--- file, none folded). `on_done(response)` gets the answer; without it,
--- the results are shown.
function M.search(query, opts, on_done)
  opts = opts or {}
  local params = { query = query, mode = opts.mode or 'hybrid', limit = opts.limit or M.config.limit }
  if opts.lang then
    params.lang = opts.lang
  end
  if opts.path then
    params.pathPrefix = vim.fn.fnamemodify(opts.path, ':p')
  end
  if opts.scope and opts.scope ~= 'local' then
    params.scope = opts.scope
  end
  ask('dowse/search', function()
    return params
  end, 'search failed', vim.log.levels.ERROR, on_done, function(client, response)
    if response.degraded then
      notify(response.degraded, vim.log.levels.WARN)
    end
    show('dowse: ' .. query, items_of(client, result_places(response.results)))
  end)
end

local function position_params(client)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding or 'utf-16')
  return { uri = params.textDocument.uri, position = params.position }
end

--- Definitions and references of the symbol under the cursor.
function M.usages(on_done)
  ask('dowse/findUsages', position_params, 'usages', vim.log.levels.WARN, on_done, function(client, response)
    local places = {}
    for _, u in ipairs(response.definitions) do
      table.insert(places, { uri = u.uri, range = u.range, text = 'definition: ' .. vim.trim(u.context) })
    end
    for _, u in ipairs(response.references) do
      table.insert(places, { uri = u.uri, range = u.range, text = vim.trim(u.context) })
    end
    show('dowse: usages of ' .. response.symbol, items_of(client, places))
  end)
end

--- Code like the chunk under the cursor.
function M.similar(on_done)
  local function params(client)
    local p = position_params(client)
    p.limit = M.config.limit
    return p
  end
  ask('dowse/findSimilar', params, 'similar', vim.log.levels.WARN, on_done, function(client, response)
    local source = response.source.symbol or ('line ' .. response.source.startLine)
    show('dowse: like ' .. source, items_of(client, result_places(response.results)))
  end)
end

--- The health report, one line per component.
function M.health(on_done)
  ask('dowse/health', function() end, 'health', vim.log.levels.ERROR, on_done, function(_, health)
    local lines = { 'dowse is ' .. health.status }
    local names = vim.tbl_keys(health.components)
    table.sort(names)
    for _, name in ipairs(names) do
      local c = health.components[name]
      local latency = c.latencyMs and string.format(' (%.1f ms)', c.latencyMs) or ''
      table.insert(lines, string.format('  %s: %s — %s%s', name, c.status, c.message, latency))
    end
    local level = health.status == 'healthy' and vim.log.levels.INFO or vim.log.levels.WARN
    vim.notify(table.concat(lines, '\n'), level)
  end)
end

--- Reconciles the index with the disk.
function M.reindex(on_done)
  local function params()
    notify('reindexing...') -- said as the request goes out
  end
  ask('dowse/reindex', params, 'reindex', vim.log.levels.ERROR, on_done, function(_, report)
    notify(
      string.format(
        '%d files, %d chunks (%d read again, %d removed) in %.1f s',
        report.files,
        report.chunks,
        report.filesIndexed,
        report.filesRemoved,
        report.seconds
      )
    )
  end)
end

--- :Dowse {subcommand} [args]
function M.command(args, _bang)
  local sub = args[1]
  if sub == 'search' then
    local mode = 'hybrid'
    local lang = nil
    local scope = nil
    local path = nil
    local words = {}
    for i = 2, #args do
      local flag = args[i]:match('^%-%-(%a+)$')
      local langs = args[i]:match('^%-%-lang=(.+)$')
      local within = args[i]:match('^%-%-in=(.+)$')
      if flag == 'lexical' or flag == 'semantic' or flag == 'hybrid' then
        mode = flag
      elseif flag == 'team' or flag == 'all' then
        scope = flag
      elseif langs then
        lang = vim.split(langs, ',', { trimempty = true })
      elseif within then
        -- `--in=%`: the current file, as the command line names it.
        path = vim.fn.expand(within)
      else
        table.insert(words, args[i])
      end
    end
    local query = table.concat(words, ' ')
    if query == '' then
      vim.ui.input({ prompt = 'dowse search: ' }, function(input)
        if input and vim.trim(input) ~= '' then
          M.search(input, { mode = mode, lang = lang, scope = scope, path = path })
        end
      end)
      return
    end
    M.search(query, { mode = mode, lang = lang, scope = scope, path = path })
  elseif sub == 'usages' then
    M.usages()
  elseif sub == 'similar' then
    M.similar()
  elseif sub == 'health' then
    M.health()
  elseif sub == 'reindex' then
    M.reindex()
  elseif sub == 'status' or sub == nil then
    local status = M.status()
    if not status then
      notify(M.client() and 'starting' or 'not running')
      return
    end
    notify(
      string.format(
        '%s: %d files, %d chunks; search by meaning covers %d%%%s',
        status.phase,
        status.files,
        status.chunks,
        math.floor(status.coverage * 100),
        status.degraded and ('; ' .. status.degraded) or ''
      )
    )
  else
    notify('unknown subcommand ' .. sub .. ': use search, usages, similar, health, reindex or status', vim.log.levels.ERROR)
  end
end

return M
