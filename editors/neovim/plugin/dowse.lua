-- :Dowse, defined once the plugin is on the runtimepath; the server starts
-- only after require('dowse').setup{}.
if vim.g.loaded_dowse then
  return
end
vim.g.loaded_dowse = true

vim.api.nvim_create_user_command('Dowse', function(cmd)
  require('dowse').command(cmd.fargs, cmd.bang)
end, {
  nargs = '*',
  bang = true,
  desc = 'dowse: search, usages, similar, health, reindex, status',
  complete = function(arg_lead, line)
    local words = vim.split(line, '%s+', { trimempty = true })
    if #words <= 1 or (#words == 2 and arg_lead ~= '') then
      return vim.tbl_filter(function(c)
        return c:find(arg_lead, 1, true) == 1
      end, { 'search', 'usages', 'similar', 'health', 'reindex', 'status' })
    end
    if words[2] == 'search' then
      return vim.tbl_filter(function(c)
        return c:find(arg_lead, 1, true) == 1
      end, { '--lexical', '--semantic', '--hybrid', '--lang=', '--in=' })
    end
    return {}
  end,
})
