-- Run by tests/e2e/neovim.rs: a real Neovim, headless, with a minimal
-- config that starts `dowse lsp` for the workspace, edits a buffer without
-- saving, and finds the unsaved text through `dowse.search` and through
-- `workspace/symbol`. Prints one line per check to stdout; exits non-zero
-- on the first failure.

local bin = assert(os.getenv('DOWSE_BIN'), 'DOWSE_BIN')
local root = assert(os.getenv('DOWSE_WORKSPACE'), 'DOWSE_WORKSPACE')

local function say(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

local function fail(why)
  say('FAIL ' .. why)
  vim.cmd('cquit 1')
end

vim.cmd('edit ' .. root .. '/src/util/duration.py')
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start({
  name = 'dowse',
  cmd = { bin, 'lsp' },
  root_dir = root,
  init_options = { debounce_ms = 20 },
})
if not id then return fail('the client did not start') end
local client = vim.lsp.get_client_by_id(id)
if not vim.wait(10000, function() return client.initialized end, 50) then
  return fail('not initialized')
end
say('OK initialized')

-- An unsaved edit: a new function at the top of the buffer.
vim.api.nvim_buf_set_lines(buf, 0, 0, false, { 'def wallaby_quux():', "    return 'hop'", '', '' })
if vim.bo[buf].modified ~= true then return fail('the buffer should be modified') end

local function search()
  local reply = client:request_sync('workspace/executeCommand', {
    command = 'dowse.search',
    arguments = { { query = 'wallaby_quux', mode = 'lexical' } },
  }, 5000, buf)
  if reply and reply.err then fail('dowse.search: ' .. vim.inspect(reply.err)) end
  return reply and reply.result and reply.result.results or {}
end

local results = {}
for _ = 1, 200 do
  results = search()
  if #results > 0 then break end
  vim.wait(100)
end
if #results == 0 then return fail('dowse.search did not find the unsaved text') end
if results[1].path ~= 'src/util/duration.py' then return fail('wrong file: ' .. results[1].path) end
say('OK dowse.search ' .. results[1].path .. ':' .. results[1].startLine)

local reply = client:request_sync('workspace/symbol', { query = 'wallaby_quux' }, 5000, buf)
local symbols = reply and reply.result or {}
if #symbols == 0 or symbols[1].name ~= 'wallaby_quux' then
  return fail('workspace/symbol: ' .. vim.inspect(reply))
end
say('OK workspace/symbol ' .. symbols[1].name .. ' line ' .. symbols[1].location.range.start.line)

local on_disk = table.concat(vim.fn.readfile(root .. '/src/util/duration.py'), '\n')
if on_disk:find('wallaby_quux', 1, true) then return fail('the file was saved') end
say('OK unsaved')
vim.cmd('qa!')
