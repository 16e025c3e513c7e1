// End to end: a teacher reports a repair with one photo through the real api/repairs.js (the photo
// goes up as multipart, like wx.uploadFile), the demo worker (auto-dispatched: the seed puts W0001
// 李师傅 on duty in 综合维修组 with a catch-all rule) finds it among new tasks and accepts it, and the
// teacher sees the timeline. Login codes `demo-teacher`, `demo-worker` (WeChat simulator).
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const live = require('./live');

// A valid 16×16 RGB PNG (a solid colour).
function tinyPng() {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const size = 16;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3, 0x7f)]);
  const pixels = zlib.deflateSync(Buffer.concat(Array(size).fill(row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

describe('repairs against the live backend', () => {
  let repairsApi;
  let placesApi;
  let dir;

  beforeAll(() => {
    live.connect('demo-teacher');
    repairsApi = require('../../api/repairs');
    placesApi = require('../../api/places');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-e2e-photo-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const { logInAs } = live;

  test('a teacher reports with a photo; the worker gets the task and accepts; the teacher sees the timeline', async () => {
    await logInAs('teacher');
    const categories = await repairsApi.categories();
    const water = categories.filter(c => c.code === 'water_electric')[0];
    expect(water).toMatchObject({ name: '水电', icon: '💡' });
    const place = await placesApi.getByCode('E-ADM-301');

    const file = path.join(dir, 'leak.png');
    fs.writeFileSync(file, tinyPng());
    const progress = [];
    const photo = await repairsApi.uploadPhoto(file, { onProgress: p => progress.push(p) });
    expect(photo).toMatchObject({ kind: null, width: 16, height: 16 });
    expect(photo.id).toEqual(expect.any(Number));
    expect(progress).toEqual([100]);

    const description = '灯管不亮 ' + Date.now();
    const result = await repairsApi.create({
      category_id: water.id,
      place_id: place.id,
      description,
      urgency: 'normal',
      contact_phone: '13800000001',
      preferred_time: '工作日下午',
      photo_ids: [photo.id],
      insist: false,
    });
    expect(result.linked).toBe(false);
    const repair = result.repair;
    expect(repair.photos.map(p => p.id)).toEqual([photo.id]);
    expect(repair.actions).toContain('cancel');
    expect(repair.status).toBe('assigned'); // auto-dispatched to the on-duty worker

    // the signed thumbnail URL loads without a token, like <image src>
    const image = await fetch(repairsApi.absoluteUrl(repair.photos[0].thumb_url));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');

    const mine = await repairsApi.mine({ page: 1, page_size: 20 });
    expect(mine.items[0]).toMatchObject({ id: repair.id, status: 'assigned', status_label: '待接单' });

    const worker = await logInAs('worker');
    expect(repair.assignee_id).toBe(worker.id);
    const tasks = await repairsApi.tasks({ tab: 'new', page: 1, page_size: 20 });
    expect(tasks.items.map(t => t.id)).toContain(repair.id);
    const accepted = await repairsApi.act(repair.id, 'accept');
    expect(accepted).toMatchObject({ status: 'accepted', actions: expect.arrayContaining(['start']) });
    // a double tap on 接单 is the same request: answered with the repair as it is, nothing recorded twice
    await expect(repairsApi.act(repair.id, 'accept', {}, { silent: true })).resolves.toMatchObject({ status: 'accepted' });
    // starting twice is a double tap too; accepting a repair already on site is refused, naming its status
    await repairsApi.act(repair.id, 'start');
    await expect(repairsApi.act(repair.id, 'accept', {}, { silent: true })).rejects.toMatchObject({
      statusCode: 409,
      error_code: 'repairs.invalid_transition',
      message: '报修单维修中，不能接单',
    });

    await logInAs('teacher');
    const detail = await repairsApi.get(repair.id);
    expect(detail.timeline.map(t => t.action)).toEqual(['submit', 'assign', 'accept', 'start']);
    expect(detail.status).toBe('in_progress');
    expect(global.wx.showToast).not.toHaveBeenCalled();
  }, 60000);
});
