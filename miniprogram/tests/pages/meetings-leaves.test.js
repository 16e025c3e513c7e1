const { flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');

const LIST = '/api/v1/meetings/leave-requests';

let mock;

mx.useFrozenDate();

function setup(options) {
  mock = mx.signIn(options);
}

async function open(query, page) {
  const p = page || render(query && query.leave ? 'packageMeetings/pages/leave/leave' : 'packageMeetings/pages/leaves/leaves');
  await p.instance.onLoad(query || {});
  await flush();
  return p;
}

describe('请假审批', () => {
  test('pending requests of one meeting, approved with a note', async () => {
    setup({ modalText: '同意，请会后看纪要' });
    mock.route('GET', LIST, [200, [mx.leave()]]);
    mock.route('POST', '/api/v1/meetings/leave-requests/3/approve', [200, mx.leave({ status: 'approved' })]);
    const page = await open({ meeting: '7' });

    expect(mock.calls('GET', LIST)[0].data).toEqual({ page_size: 100, meeting_id: 7, status: 'pending' });
    expect(text(page)).toContain('王老师');
    expect(text(page)).toContain('事由：外出培训');
    expect(text(page)).toContain('语文教研组例会 · 3月15日 14:00');

    await fire(page.querySelector('.approve'));

    expect(mock.calls('POST', '/api/v1/meetings/leave-requests/3/approve')[0].data).toEqual({ note: '同意，请会后看纪要' });
    expect(mock.toasts()).toContain('已批准');
    expect(mock.calls('GET', LIST)).toHaveLength(2);
  });

  test('reject; cancelling the dialog does nothing', async () => {
    setup({ confirm: false });
    mock.route('GET', LIST, [200, [mx.leave()]]);
    const page = await open({});
    await fire(page.querySelector('.reject'));
    expect(mock.calls('POST', '/api/v1/meetings/leave-requests/3/reject')).toHaveLength(0);
    expect(mock.calls('GET', LIST)[0].data).toEqual({ page_size: 100, status: 'pending' }); // every meeting I organise

    setup({ modalText: '' });
    mock.route('GET', LIST, [200, [mx.leave()]]);
    mock.route('POST', '/api/v1/meetings/leave-requests/3/reject', [200, mx.leave({ status: 'rejected' })]);
    const again = await open({});
    await fire(again.querySelector('.reject'));
    expect(mock.calls('POST', '/api/v1/meetings/leave-requests/3/reject')[0].data).toEqual({ note: '' });
  });

  test('已处理 lists the decided ones', async () => {
    setup();
    mock.route('GET', LIST, [200, [mx.leave(), mx.leave({ id: 4, status: 'approved', status_label: '已批准', decision_note: '同意' })]]);
    const page = await open({});
    await fire(page.querySelectorAll('.tab')[1]);

    expect(mock.calls('GET', LIST)[1].data).toEqual({ page_size: 100 });
    expect(page.querySelectorAll('.leave')).toHaveLength(1);
    expect(text(page)).toContain('已批准');
    expect(text(page)).toContain('备注：同意');
  });

  test('more requests than a page of 100: the next page at the bottom', async () => {
    setup();
    const all = [];
    for (let i = 120; i >= 1; i -= 1) all.push(mx.leave({ id: i, name: '老师' + i }));
    mock.route('GET', LIST, fx.paged(all, 100));
    const page = await open({});
    expect(page.querySelectorAll('.leave')).toHaveLength(100);

    await page.instance.onReachBottom();

    expect(mock.calls('GET', LIST)[1].data).toEqual({ page: 2, page_size: 100, status: 'pending' });
    expect(page.querySelectorAll('.leave')).toHaveLength(120);
  });

  test('nothing pending', async () => {
    setup();
    mock.route('GET', LIST, [200, []]);
    const page = await open({});
    expect(text(page)).toContain('没有待审批的请假');
  });
});

describe('请假', () => {
  test('asks with a reason and goes back', async () => {
    setup();
    mock.route('GET', '/api/v1/meetings/7', [200, mx.meeting()]);
    mock.route('POST', '/api/v1/meetings/7/leave-requests', [201, mx.leave()]);
    const page = render('packageMeetings/pages/leave/leave');
    await page.instance.onLoad({ id: '7' });
    await flush();

    expect(text(page)).toContain('语文教研组例会');
    await fire(page.querySelector('#submit'));
    expect(text(page)).toContain('请填写请假事由（至少2个字）');
    expect(mock.calls('POST', '/api/v1/meetings/7/leave-requests')).toHaveLength(0);

    page.instance.onReason({ detail: { value: '外出培训' } });
    await page.instance.submit();

    expect(mock.calls('POST', '/api/v1/meetings/7/leave-requests')[0].data).toEqual({ reason: '外出培训' });
    expect(mock.wx.navigateBack).toHaveBeenCalled();
  });

  test('the server\'s refusal is shown by the field', async () => {
    setup();
    mock.route('GET', '/api/v1/meetings/7', [200, mx.meeting()]);
    mock.route('POST', '/api/v1/meetings/7/leave-requests', [409, { code: 409, error_code: 'meetings.leave_exists', message: '你已提交过请假申请' }]);
    const page = render('packageMeetings/pages/leave/leave');
    await page.instance.onLoad({ id: '7' });
    page.instance.onReason({ detail: { value: '再请一次' } });
    await page.instance.submit();
    await flush();

    expect(page.querySelector('.reason-error').dom.textContent).toBe('你已提交过请假申请');
    expect(mock.wx.navigateBack).not.toHaveBeenCalled();
  });
});
