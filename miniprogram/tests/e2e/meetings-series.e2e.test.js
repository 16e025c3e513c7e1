// End to end: an organiser's weekly series — created, read, edited through the form's own
// fromSeries/toPayload, stopped — the printable door code downloaded through request.download, and a
// 家长会 a parent finds in their list. Login codes `demo-finance` (staff: organises) and `demo-parent`,
// used by no other e2e file (the backend allows 5 logins a minute per code).
const fs = require('fs');
const { removeDownloads } = require('./fetch-wx');
const live = require('./live');

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('weekly series, door codes and parents against the live backend', () => {
  let session;
  let request;
  let meetingsApi;
  let labels;
  let tiles;
  let organiser;

  beforeAll(async () => {
    session = live.connect('demo-finance');
    request = require('../../api/request').request;
    meetingsApi = require('../../api/meetings');
    labels = require('../../utils/meetings');
    tiles = require('../../utils/tiles');
    organiser = await session.ensureLogin();
  });

  afterAll(() => removeDownloads());

  // Tomorrow in school time ("2027-03-16").
  function tomorrow() {
    return labels.pickerFromIso(new Date(Date.now() + 24 * 3600 * 1000).toISOString()).date;
  }

  function form(values) {
    return Object.assign(labels.emptyForm(), { location: '行政楼会议室', date: tomorrow(), start: '16:00', end: '17:00', userIds: [organiser.id] }, values);
  }

  test('a series is created, read, edited through the form and stopped', async () => {
    const created = await meetingsApi.createSeries(labels.toPayload(form({ title: '端到端周例会', weekly: true, weeks: 3 })));
    expect(created.occurrences).toHaveLength(3);

    const series = await meetingsApi.getSeries(created.id);
    expect(series).toMatchObject({ status: 'active', interval_weeks: 1, duration_minutes: 60 });
    expect(series.description).toMatch(/^每周[一二三四五六日] 16:00，/);
    expect(labels.weeklyText(series)).toBe(series.description.split(' ')[0] + ' 16:00-17:00');
    const meeting = await meetingsApi.get(series.occurrences[0].id);
    expect(meeting.series_id).toBe(series.id);

    const edited = Object.assign(labels.fromSeries(series), { title: '端到端周例会（改）', start: '16:30', end: '17:45' });
    expect(labels.validate(edited)).toEqual({});
    const saved = await meetingsApi.updateSeries(series.id, labels.toPayload(edited));
    expect(saved.title).toBe('端到端周例会（改）');
    expect(saved.occurrences.map(o => labels.clock(o.starts_at) + '-' + labels.clock(o.ends_at))).toEqual(['16:30-17:45', '16:30-17:45', '16:30-17:45']);
    expect((await meetingsApi.get(series.occurrences[1].id)).title).toBe('端到端周例会（改）');

    const stopped = await meetingsApi.cancelSeries(series.id, '');
    expect(stopped.status).toBe('cancelled');
    expect(stopped.occurrences.map(o => o.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    await expect(meetingsApi.updateSeries(series.id, labels.toPayload(edited), { silent: true })).rejects.toMatchObject({ statusCode: 409 });
  }, 60000);

  test('the printable door code downloads as a PNG; without a geofence the 409 is in Chinese', async () => {
    const fenced = await meetingsApi.create(
      labels.toPayload(form({ title: '端到端门口码', geofence: { latitude: 31.2305, longitude: 121.4737 }, radius: 200, allowStaticCode: true }))
    );
    const file = await meetingsApi.downloadStaticCode(fenced.id);
    expect(fs.readFileSync(file).subarray(0, 8).equals(PNG)).toBe(true);

    const plain = await meetingsApi.create(labels.toPayload(form({ title: '端到端无门口码' })));
    await expect(meetingsApi.downloadStaticCode(plain.id)).rejects.toMatchObject({
      statusCode: 409,
      error_code: 'meetings.static_code_disabled',
      message: '本会议未开启固定签到码（需要先设置签到范围）',
    });
  }, 60000);

  test('a parent invited to a 家长会 has the 会议签到 tile and finds it in their list', async () => {
    const classes = await request({ url: '/api/v1/classes' });
    const cls = classes.filter(c => c.name === '高一(1)班')[0];
    const meeting = await meetingsApi.create(
      labels.toPayload(form({ title: '端到端家长会', userIds: [], classIds: [cls.id], classMembers: 'parents' }))
    );

    const parent = await live.switchTo('demo-parent');
    expect(tiles.tilesFor(parent).map(t => t.name)).toContain('meetings');
    const list = await meetingsApi.list({ scope: 'invited', when: 'upcoming', page_size: 50 });
    expect(list.items.map(m => m.title)).toContain('端到端家长会');
    expect(list.pagination).toMatchObject({ page: 1 });
    const seen = await meetingsApi.get(meeting.id);
    expect(seen).toMatchObject({ can_manage: false, mine: expect.objectContaining({ invited: true }) });
  }, 60000);
});
