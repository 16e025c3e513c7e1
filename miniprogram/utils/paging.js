// Infinite lists over the API's page/page_size pagination (X-Pagination header).

const PAGE_SIZE = 20;

// Appends `more` to `list`, skipping ids already shown: items that moved from one page to the
// next between two loads (a new message on top) would otherwise show twice.
function merge(list, more) {
  const seen = {};
  list.forEach(item => {
    seen[item.id] = true;
  });
  return list.concat(more.filter(item => !seen[item.id]));
}

// Whether there is a page after the one just loaded: the header says so; without it, a full page.
function hasMore(pagination, count, pageSize) {
  if (pagination) return Boolean(pagination.next_page);
  return count >= (pageSize || PAGE_SIZE);
}

// The page holding the first item not yet shown, after `loaded` pages of which `removed` items
// have since left the list (each removal moves the later items one place up).
function nextPage(loaded, removed, pageSize) {
  const size = pageSize || PAGE_SIZE;
  return Math.floor((loaded * size - (removed || 0)) / size) + 1;
}

module.exports = { PAGE_SIZE, merge, hasMore, nextPage };
