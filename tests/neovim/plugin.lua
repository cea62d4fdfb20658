-- Run by tests/e2e/neovim.rs: real Neovim, headless, with the shipped
-- plugin (editors/neovim, put on the runtimepath by --cmd, set up as its
-- README says) and no other configuration. Checks, through the user
-- commands: :Dowse search fills the quickfix list with the expected place,
-- :Dowse usages finds a reference, :Dowse similar lists code like the
-- method under the cursor, an unsaved edit is found, :Dowse health and
-- :Dowse reindex report, indexing progress arrives as LspProgress. One line per check on stdout; exits
-- non-zero on the first failure.

local bin = assert(os.getenv('DOWSE_BIN'), 'DOWSE_BIN')
local root = assert(os.getenv('DOWSE_WORKSPACE'), 'DOWSE_WORKSPACE')
local t = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local say, fail, quickfix, where = t.say, t.fail, t.quickfix, t.where

if vim.fn.exists(':Dowse') ~= 2 then
  return fail(':Dowse is not defined: the plugin was not loaded from the runtimepath')
end

local progress = 0
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function()
    progress = progress + 1
  end,
})

require('dowse').setup({ cmd = { bin, 'lsp' }, settings = { debounce_ms = 20 } })
vim.cmd('edit ' .. root .. '/src/net/uploader.py')
local dowse = require('dowse')
if not t.wait_ready(dowse) then
  return fail('the server never got ready: ' .. vim.inspect(dowse.status()))
end
say('OK ready ' .. dowse.statusline())
if progress == 0 then
  return fail('no LspProgress while indexing')
end
say('OK progress ' .. progress)

vim.cmd('cd ' .. root)
vim.cmd('Dowse search retry failed uploads')
local items = quickfix('dowse: retry failed uploads')
if not items then
  return fail(':Dowse search left no quickfix list')
end
say('OK search ' .. where(items[1]) .. ' ' .. items[1].text)

-- Usages of `upload` (the method, at line 22: `    def upload(self, path):`).
vim.api.nvim_win_set_cursor(0, { 22, 9 })
vim.cmd('Dowse usages')
items = quickfix('dowse: usages of upload')
if not items then
  return fail(':Dowse usages left no quickfix list')
end
for _, item in ipairs(items) do
  if not item.text:match('^definition') then
    say('OK usages reference ' .. where(item) .. ':' .. item.col .. ' ' .. item.text)
    break
  end
end

-- Code like the method under the cursor (still on `upload`).
vim.cmd('Dowse similar')
items = quickfix('dowse: like upload')
if not items then
  return fail(':Dowse similar left no quickfix list')
end
say('OK similar ' .. where(items[1]) .. ' ' .. items[1].text)

-- An unsaved edit, found by meaning and by name.
vim.cmd('edit ' .. root .. '/src/util/thermo.py')
local buf = vim.api.nvim_get_current_buf()
local last = vim.api.nvim_buf_line_count(buf)
vim.api.nvim_buf_set_lines(buf, last, last, false, {
  '',
  '',
  'def flush_zebra_quota(limit):',
  '    """Flush the zebra quota when the pen overflows."""',
  '    return limit // 2',
})
if not vim.bo[buf].modified then
  return fail('the buffer should be unsaved')
end
local found
for _ = 1, 100 do
  vim.cmd('Dowse search flush the zebra quota')
  items = quickfix('dowse: flush the zebra quota')
  if items and where(items[1]) == 'src/util/thermo.py:' .. (last + 3) then
    found = items[1]
    break
  end
  vim.fn.setqflist({}, 'r', { title = 'waiting' })
  vim.wait(100)
end
if not found then
  return fail('the unsaved edit was not found: ' .. vim.inspect(items))
end
local disk = table.concat(vim.fn.readfile(root .. '/src/util/thermo.py'), '\n')
if disk:find('zebra') then
  return fail('the edit reached the disk')
end
say('OK unsaved ' .. where(found) .. ' ' .. found.text)

-- Health and reindex answer in notifications.
local said = {}
local notify = vim.notify
vim.notify = function(message, level)
  table.insert(said, message)
  return notify(message, level)
end
local function heard(pattern)
  local line
  vim.wait(20000, function()
    for _, message in ipairs(said) do
      if message:find(pattern) then
        line = message
        return true
      end
    end
    return false
  end, 50)
  return line
end
vim.cmd('Dowse health')
local health = heard('^dowse is ')
if not health then
  return fail(':Dowse health said nothing: ' .. vim.inspect(said))
end
say('OK health ' .. health:gsub('\n.*', ''))
vim.cmd('Dowse reindex')
local reindexed = heard('^dowse: %d+ files, %d+ chunks')
if not reindexed or not heard('^dowse: reindexing') then
  return fail(':Dowse reindex did not report: ' .. vim.inspect(said))
end
say('OK reindex ' .. reindexed)
vim.notify = notify

vim.cmd('qa!')
