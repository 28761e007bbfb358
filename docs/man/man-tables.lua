-- pandoc filter for the man pages made from docs/*.md (make-man.sh).
--
-- 1. Headings move up one level: a page's own sections are written as level 2 (##) so that the level-1
--    title of a reused document (docs/configuration.md's "Configuration reference") can be dropped, and
--    level 2 becomes the man page's .SH, level 3 its .SS.
-- 2. Table columns get widths from their contents. A pipe table's dashes are all the same length in
--    docs/, which pandoc would turn into equal columns, squeezing the long "meaning" column into a
--    sliver; here each column but the last is as wide as its longest cell up to a cap, and the last
--    takes the rest of the line (at least 20 columns: a table may then be wider than 80 columns).

local function shift_heading(el)
  if el.level == 1 then
    return {}
  end
  el.level = el.level - 1
  return el
end

local function cell_text(cell)
  return pandoc.utils.stringify(cell.contents)
end

local function longest_word(text)
  local n = 1
  for word in text:gmatch("%S+") do
    n = math.max(n, utf8.len(word) or #word)
  end
  return n
end

-- pandoc's man writer makes a column (70 * width) n wide, and tbl puts 3n between columns; a man page at
-- 80 columns has about 70n of line inside its indent. Widths here are in n and become fractions of 70.
local function size_columns(tbl)
  local n = #tbl.colspecs
  if n < 2 then
    return tbl
  end
  local cell, word = {}, {}
  for i = 1, n do
    cell[i], word[i] = 1, 1
  end
  local function measure(rows)
    for _, row in ipairs(rows) do
      for i, c in ipairs(row.cells) do
        if i <= n then
          local text = cell_text(c)
          cell[i] = math.max(cell[i], utf8.len(text) or #text)
          word[i] = math.max(word[i], longest_word(text))
        end
      end
    end
  end
  measure(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    measure(body.body)
  end
  local room, cap = 68 - 3 * (n - 1), 10
  local used = 0
  local widths = {}
  for i = 1, n - 1 do
    -- As wide as its longest cell up to the cap, but never narrower than its longest word, which
    -- cannot be broken.
    widths[i] = math.max(math.min(cell[i], cap), word[i]) + 1
    used = used + widths[i]
  end
  widths[n] = math.max(room - used, word[n] + 1, 20)
  for i = 1, n do
    tbl.colspecs[i] = { tbl.colspecs[i][1], widths[i] / 70 }
  end
  return tbl
end

return { { Header = shift_heading, Table = size_columns } }
