-- Shared by the Neovim test scripts (loaded with dofile): one line per check
-- on stdout, exit non-zero on the first failure, and the plugin's answers
-- read from the quickfix list.

local M = {}

function M.say(line)
  io.stdout:write(line .. '\n')
  io.stdout:flush()
end

function M.fail(why)
  M.say('FAIL ' .. why)
  vim.cmd('cquit 1')
end

--- The quickfix list once it has items under `title`, or nil after 20 s.
function M.quickfix(title)
  local ok = vim.wait(20000, function()
    local qf = vim.fn.getqflist({ title = 1, items = 1 })
    return qf.title == title and #qf.items > 0
  end, 50)
  if not ok then
    return nil
  end
  return vim.fn.getqflist()
end

--- `path:line` of a quickfix item, relative to the current directory.
function M.where(item)
  return vim.fn.fnamemodify(vim.api.nvim_buf_get_name(item.bufnr), ':.') .. ':' .. item.lnum
end

--- Waits until the plugin's server says it is ready.
function M.wait_ready(dowse)
  return vim.wait(60000, function()
    local status = dowse.status()
    return status ~= nil and status.phase == 'ready'
  end, 50)
end

return M
