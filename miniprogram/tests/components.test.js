const { installWx } = require('./helpers/wx');
const { render, text, fire } = require('./helpers/page');

beforeEach(() => installWx());

describe('tile', () => {
  test('renders title and icon and emits select with its name', async () => {
    const tile = render('components/tile/tile', { name: 'scan', title: '扫码', icon: '扫' });
    const selected = jest.fn();
    tile.addEventListener('select', e => selected(e.detail));

    expect(tile.querySelector('.tile__icon').dom.textContent).toBe('扫');
    expect(tile.querySelector('.tile__title').dom.textContent).toBe('扫码');
    expect(text(tile)).not.toContain('即将上线');
    await fire(tile.querySelector('.tile'));

    expect(selected).toHaveBeenCalledWith({ name: 'scan', ready: true });
  });

  test('a tile that is not ready says 即将上线', () => {
    const tile = render('components/tile/tile', { name: 'fees', title: '缴费', icon: '缴', ready: false });
    expect(text(tile)).toContain('即将上线');
    expect(tile.querySelector('.tile').dom.className).toContain('tile--soon');
  });
});

describe('empty', () => {
  test('title and optional description', () => {
    const full = render('components/empty/empty', { title: '暂无消息', description: '稍后再来' });
    expect(full.querySelector('.empty__title').dom.textContent).toBe('暂无消息');
    expect(full.querySelector('.empty__desc').dom.textContent).toBe('稍后再来');

    const bare = render('components/empty/empty');
    expect(bare.querySelector('.empty__title').dom.textContent).toBe('暂无内容');
    expect(bare.querySelector('.empty__desc')).toBeUndefined();
  });
});
