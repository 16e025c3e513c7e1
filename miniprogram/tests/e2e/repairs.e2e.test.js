// End to end: a teacher reports a broken light with a photo through the real api/ modules, the demo
// worker 李师傅 finds it among his tasks at once (auto-dispatched) and accepts it, and the teacher's
// timeline shows it.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { fetchWx } = require('./wx-fetch');

const BASE = process.env.E2E_API_BASE;
// An 8×8 JPEG (Pillow, quality 80): real image bytes the backend re-encodes.
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAIAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDIooor5E/SD//Z',
  'base64'
);

function as(loginCode) {
  jest.resetModules();
  global.wx = fetchWx(loginCode);
  require('../../config/env').setBaseUrl(BASE);
  require('../../services/session'); // registers the re-login used on 401
  return require('../../api/repairs');
}

describe('repairs against the live backend', () => {
  let photoPath;

  beforeAll(() => {
    if (!BASE) throw new Error('E2E_API_BASE is not set: tests/e2e/globalSetup.js could not start the backend');
    photoPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mp-e2e-photo-')), 'light.jpg');
    fs.writeFileSync(photoPath, JPEG);
  });

  test('report with a photo -> dispatched to the demo worker -> accepted -> on the reporter’s timeline', async () => {
    let repairsApi = as('demo-teacher');
    const categories = await repairsApi.categories();
    const water = categories.filter(c => c.name === '水电')[0];
    const place = await require('../../api/places').getByCode('E-TA-305');
    const progress = [];
    const photo = await repairsApi.uploadPhoto(photoPath, p => progress.push(p));
    expect(photo.id).toBeGreaterThan(0);
    expect(progress).toEqual([100]);

    const result = await repairsApi.submit({
      category_id: water.id, place_id: place.id, description: 'e2e：灯不亮了', contact_phone: '13800000001',
      urgency: 'normal', preferred_time: '尽快', photo_ids: [photo.id], insist: true,
    });
    const id = result.repair.id;
    expect(result.repair.status).toBe('assigned');
    expect(result.repair.photos.map(p => p.id)).toEqual([photo.id]);
    const image = await fetch(BASE + result.repair.photos[0].thumb_url);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');

    repairsApi = as('demo-worker');
    const tasks = await repairsApi.tasks({ tab: 'new', page_size: 100 });
    expect(tasks.map(t => t.id)).toContain(id);
    const accepted = await repairsApi.act(id, 'accept');
    expect(accepted.status).toBe('accepted');

    repairsApi = as('demo-teacher');
    const seen = await repairsApi.get(id);
    expect(seen.timeline.map(t => t.action)).toEqual(['submit', 'assign', 'accept']);
    expect(seen.assignee_name).toBe('李师傅');
  }, 60000);
});
