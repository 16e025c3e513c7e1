// behaviors/list.js on a bare component: first page, next pages until the last, refresh, empty and
// error states, rows taken out in between, a filtered-out page, and a reload overtaking a load.
const simulate = require('miniprogram-simulate'); // defines the global Behavior
const { installWx, flush } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const list = require('../behaviors/list');

const TEMPLATE = `
<view>
  <view wx:if="{{loading && !items.length}}" class="loading">加载中…</view>
  <view wx:elif="{{error && !items.length}}" class="error">加载失败 {{error}}<view id="retry" bindtap="reload">重试</view></view>
  <view wx:elif="{{loaded && !items.length}}" class="empty">暂无</view>
  <block wx:else>
    <view wx:for="{{items}}" wx:key="id" class="row">{{item.label}}</view>
    <view wx:if="{{loadingMore}}" class="more">加载中…</view>
    <view wx:elif="{{loaded && !hasMore}}" class="end">没有更多了</view>
  </block>
</view>`;

let mock;

beforeEach(() => {
  mock = installWx();
});

// n rows with ids n..1, served `size` a page with the X-Pagination header (or without it).
function server(n, options) {
  const opts = options || {};
  const rows = [];
  for (let i = n; i >= 1; i -= 1) rows.push({ id: i, name: '第' + i + '条', done: i % 2 === 0 });
  const answer = page => {
    const size = opts.size || 20;
    const pages = Math.max(1, Math.ceil(rows.length / size));
    const items = rows.slice((page - 1) * size, page * size);
    return { items, pagination: opts.noHeader ? null : JSON.parse(fx.paginationHeader(page, pages, rows.length)['X-Pagination']) };
  };
  return { rows, answer };
}

function mount(methods, data) {
  const id = simulate.load({
    template: TEMPLATE,
    behaviors: [list],
    data: data || {},
    methods: Object.assign({ listItem: raw => ({ id: raw.id, label: raw.name, done: raw.done }) }, methods),
  });
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

const labels = comp => comp.querySelectorAll('.row').map(r => r.dom.textContent);
const text = comp => comp.dom.textContent.replace(/\s+/g, ' ').trim();

describe('behaviors/list', () => {
  test('the first page, then the next ones at the bottom, stopping at the last', async () => {
    const { answer } = server(45);
    const fetchPage = jest.fn((page, size) => Promise.resolve(answer(page, size)));
    const comp = mount({ fetchPage });

    await comp.instance.reload();
    expect(fetchPage).toHaveBeenLastCalledWith(1, 20);
    expect(labels(comp)).toHaveLength(20);
    expect(comp.instance.data).toMatchObject({ loaded: true, hasMore: true, total: 45 });
    expect(text(comp)).not.toContain('没有更多了');

    await comp.instance.onReachBottom();
    await comp.instance.onReachBottom();
    expect(fetchPage.mock.calls.map(c => c[0])).toEqual([1, 2, 3]);
    expect(labels(comp)).toHaveLength(45);
    expect(labels(comp)[44]).toBe('第1条');
    expect(text(comp)).toContain('没有更多了');

    await comp.instance.onReachBottom();
    expect(fetchPage).toHaveBeenCalledTimes(3);
  });

  test('without X-Pagination a short page is the last one; the page size is the page\'s own', async () => {
    const { answer } = server(7, { size: 5, noHeader: true });
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    const comp = mount({ fetchPage }, { pageSize: 5 });

    await comp.instance.reload();
    expect(fetchPage).toHaveBeenLastCalledWith(1, 5);
    expect(comp.instance.data.hasMore).toBe(true);
    await comp.instance.onReachBottom();
    expect(labels(comp)).toHaveLength(7);
    expect(comp.instance.data).toMatchObject({ hasMore: false, total: 7 });
  });

  test('an empty list shows the empty state', async () => {
    const comp = mount({ fetchPage: () => Promise.resolve({ items: [], pagination: null }) });
    expect(text(comp)).toBe('');
    await comp.instance.reload();
    expect(text(comp)).toBe('暂无');
  });

  test('an error shows 加载失败 with 重试, which loads again', async () => {
    const fetchPage = jest.fn(() => Promise.reject({ message: '网络不给力，请检查网络后重试', error_code: 'network_error' }));
    const comp = mount({ fetchPage });

    await comp.instance.reload();
    expect(text(comp)).toContain('加载失败 网络不给力，请检查网络后重试');
    expect(comp.instance.data.errorCode).toBe('network_error');
    expect(mock.wx.showToast).not.toHaveBeenCalled();

    fetchPage.mockImplementation(() => Promise.resolve({ items: [{ id: 1, name: '回来了' }], pagination: null }));
    comp.querySelector('#retry').dispatchEvent('tap');
    await flush();
    expect(labels(comp)).toEqual(['回来了']);
    expect(comp.instance.data.error).toBe('');
  });

  test('a failed refresh keeps the rows on screen and says why; so does a failed next page', async () => {
    const { answer } = server(30);
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    const comp = mount({ fetchPage });
    await comp.instance.reload();

    fetchPage.mockImplementation(() => Promise.reject({ message: '服务器开小差了，请稍后重试' }));
    await comp.instance.onPullDownRefresh();
    expect(labels(comp)).toHaveLength(20);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);

    await comp.instance.onReachBottom();
    expect(comp.instance.data.loadingMore).toBe(false);
    expect(mock.toasts()).toEqual(['服务器开小差了，请稍后重试', '服务器开小差了，请稍后重试']);
  });

  test('pull-down refresh loads the first page again and stops the spinner', async () => {
    const { rows, answer } = server(3);
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    const comp = mount({ fetchPage });
    await comp.instance.reload();

    rows.unshift({ id: 4, name: '新的' });
    await comp.instance.onPullDownRefresh();

    expect(labels(comp)).toEqual(['新的', '第3条', '第2条', '第1条']);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });

  test('rows taken out: the next page still starts at the first row not shown', async () => {
    const { rows, answer } = server(25);
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    const comp = mount({ fetchPage });
    await comp.instance.reload();

    rows.splice(0, 1); // 第25条 handled on the server …
    await comp.instance.removeItem(25); // … and taken off the screen
    expect(comp.instance.data.total).toBe(24);
    await comp.instance.onReachBottom();
    await comp.instance.onReachBottom();

    expect(fetchPage.mock.calls.map(c => c[0])).toEqual([1, 1, 2]);
    expect(labels(comp)).toHaveLength(24);
    expect(new Set(labels(comp)).size).toBe(24);
  });

  test('the last row of a page taken out loads the next page', async () => {
    const { rows, answer } = server(3, { size: 1 });
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    const comp = mount({ fetchPage }, { pageSize: 1 });
    await comp.instance.reload();

    rows.splice(0, 1);
    await comp.instance.removeItem(3);

    expect(labels(comp)).toEqual(['第2条']);
  });

  test('a page the page filters out entirely is followed by the next one', async () => {
    const { answer } = server(4, { size: 2 });
    const fetchPage = jest.fn(page => Promise.resolve(answer(page)));
    // page 1 holds 第4条 and 第3条; only odd ones are shown
    const comp = mount({ fetchPage, listItems: rows => rows.filter(r => r.id === 1) }, { pageSize: 2 });

    await comp.instance.reload();

    expect(fetchPage.mock.calls.map(c => c[0])).toEqual([1, 2]);
    expect(labels(comp)).toEqual(['第1条']);
  });

  test('a reload (a tab switch) overtakes a load still under way', async () => {
    const answers = [];
    const fetchPage = jest.fn(() => new Promise(resolve => answers.push(resolve)));
    const comp = mount({ fetchPage });

    const first = comp.instance.reload();
    const second = comp.instance.resetList();
    answers[1]({ items: [{ id: 2, name: '新标签' }], pagination: null });
    answers[0]({ items: [{ id: 1, name: '旧标签' }], pagination: null });
    await Promise.all([first, second]);

    expect(labels(comp)).toEqual(['新标签']);
  });

  test('tabs: a tap on another tab sets it and loads its list; the same tab again does nothing', async () => {
    const fetchPage = jest.fn(function fetch() {
      return Promise.resolve({ items: [{ id: 1, name: this.data.tab }], pagination: null });
    });
    const comp = mount({ fetchPage }, { tab: 'pending' });
    await comp.instance.reload();
    expect(labels(comp)).toEqual(['pending']);

    await comp.instance.onListTab({ currentTarget: { dataset: { tab: 'done' } } });
    expect(labels(comp)).toEqual(['done']);
    await comp.instance.onListTab({ currentTarget: { dataset: { tab: 'done' } } });
    expect(fetchPage).toHaveBeenCalledTimes(2);
  });
});
