// End to end: GET /repairs/open-check before a report and the linked answer of 关注该报修, through
// the real api/repairs.js. Login codes `demo-courier` (reports first) and `demo-canteen` (finds it
// open and follows it), used by no other e2e file.
const live = require('./live');

describe('the same problem reported twice, against the live backend', () => {
  let session;
  let repairsApi;
  let placesApi;

  beforeAll(() => {
    session = live.connect('demo-courier');
    repairsApi = require('../../api/repairs');
    placesApi = require('../../api/places');
  });

  const report = (category, place, description, insist) => ({
    category_id: category.id,
    place_id: place.id,
    description,
    urgency: 'normal',
    contact_phone: '13800000009',
    preferred_time: null,
    photo_ids: [],
    insist,
  });

  test('open-check says what is open; following links, insisting creates', async () => {
    await session.ensureLogin();
    const categories = await repairsApi.categories();
    const carpentry = categories.filter(c => c.code === 'carpentry')[0];
    const place = await placesApi.getByCode('E-ADM-301');

    await expect(repairsApi.openCheck(place.id, carpentry.id)).resolves.toEqual({ open: false });
    const first = await repairsApi.create(report(carpentry, place, '门锁坏了', false));
    expect(first.linked).toBe(false);
    await expect(repairsApi.openCheck(place.id, carpentry.id)).resolves.toMatchObject({ open: true, repair_id: first.repair.id, mine: true });

    await live.switchTo('demo-canteen');
    const check = await repairsApi.openCheck(place.id, carpentry.id);
    expect(check).toMatchObject({ open: true, repair_id: first.repair.id, mine: false, status_label: expect.any(String) });

    const followed = await repairsApi.create(report(carpentry, place, '门锁也打不开', false));
    expect(followed).toMatchObject({ linked: true, repair: expect.objectContaining({ id: first.repair.id }) });
    const mine = await repairsApi.mine({ page: 1, page_size: 20 });
    expect(mine.items.map(r => r.id)).toContain(first.repair.id);

    const insisted = await repairsApi.create(report(carpentry, place, '是另一扇门', true));
    expect(insisted.linked).toBe(false);
    expect(insisted.repair.id).not.toBe(first.repair.id);
  }, 60000);
});
