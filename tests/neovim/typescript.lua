-- Run by tests/e2e/neovim.rs on the TypeScript fixture workspace
-- (tests/fixtures/ts-workspace), with the shipped plugin: a question finds
-- the function that answers it, the language filter keeps one language, and
-- :Dowse usages lists the function's references in other files.

local bin = assert(os.getenv('DOWSE_BIN'), 'DOWSE_BIN')
local root = assert(os.getenv('DOWSE_WORKSPACE'), 'DOWSE_WORKSPACE')
local t = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/helpers.lua')
local say, fail, quickfix, where = t.say, t.fail, t.quickfix, t.where

require('dowse').setup({ cmd = { bin, 'lsp' } })
vim.cmd('cd ' .. root)
vim.cmd('edit src/net/uploader.ts')
local dowse = require('dowse')
if not t.wait_ready(dowse) then
  return fail('the server never got ready: ' .. vim.inspect(dowse.status()))
end
say('OK ready')

vim.cmd('Dowse search where do we retry the uploads that failed')
local items = quickfix('dowse: where do we retry the uploads that failed')
if not items then
  return fail(':Dowse search left no quickfix list')
end
say('OK search ' .. where(items[1]) .. ' ' .. items[1].text)

--- `:Dowse search {args}` for `query`: its quickfix items, each of whose
--- places `keep` must accept; nil and why otherwise.
local function search_keeping(args, query, keep)
  vim.cmd('Dowse search ' .. args .. ' ' .. query)
  local found = quickfix('dowse: ' .. query)
  if not found then
    return nil, ':Dowse search ' .. args .. ' left no quickfix list'
  end
  for _, item in ipairs(found) do
    if not keep(where(item)) then
      return nil, args .. ' returned ' .. where(item)
    end
  end
  return found
end

local why
items, why = search_keeping('--lang=markdown', 'retry failed uploads', function(place)
  return place:match('%.md:') ~= nil
end)
if not items then
  return fail(why)
end
say('OK lang ' .. where(items[1]) .. ' ' .. #items)

-- Within the current file: its places alone.
items, why = search_keeping('--in=%', 'retry the uploads', function(place)
  return place:match('^(.*):') == 'src/net/uploader.ts'
end)
if not items then
  return fail(why)
end
say('OK within ' .. where(items[1]) .. ' ' .. #items)

-- Usages of `retryFailedUploads`, from its definition (line 15).
vim.api.nvim_win_set_cursor(0, { 15, 25 })
vim.cmd('Dowse usages')
items = quickfix('dowse: usages of retryFailedUploads')
if not items then
  return fail(':Dowse usages left no quickfix list')
end
local refs = {}
for _, item in ipairs(items) do
  if not item.text:match('^definition') then
    table.insert(refs, where(item))
  end
end
table.sort(refs)
say('OK usages ' .. table.concat(refs, ' '))

vim.cmd('qa!')
