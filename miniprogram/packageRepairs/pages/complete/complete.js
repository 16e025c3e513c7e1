// 完工 (the assigned worker): materials from the catalogue with quantities, labour minutes, a note
// and after-photos (uploaded as picked, like the report's), then POST /repairs/{id}/complete.
const repairsApi = require('../../../api/repairs');
const money = require('../../../utils/money');
const photos = require('../../lib/photos');

const QUANTITY_RE = /^\d{1,4}(\.\d{1,2})?$/;

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

// lines: [{material_id, quantity: '1.5'}] -> total in fen (display only; the server prices it)
function totalFen(lines, catalogue) {
  return lines.reduce((sum, line) => {
    const m = catalogue.filter(c => c.id === line.materialId)[0];
    const q = Number(line.quantity);
    return m && q > 0 ? sum + Math.round(m.unit_cost_fen * q) : sum;
  }, 0);
}

Component({
  data: {
    loading: true,
    error: '',
    catalogue: [], // [{id, name, unit, unit_cost_fen, priceText}]
    lines: [], // [{materialId, name, unit, quantity}]
    total: '¥0.00',
    choosing: false,
    labourMinutes: '',
    note: '',
    photos: [],
    max: photos.MAX_PHOTOS,
    errors: {},
    submitting: false,
  },

  methods: Object.assign({}, photos.methods, {
    onLoad(query) {
      this.repairId = Number(query && query.id);
      return this.loadMaterials();
    },

    loadMaterials() {
      this.setData({ loading: true, error: '' });
      return repairsApi.materials({ silent: true }).then(
        list =>
          this.setData({
            loading: false,
            catalogue: list.filter(m => m.active !== false).map(m => Object.assign({}, m, { priceText: money.formatFen(m.unit_cost_fen) + '/' + m.unit })),
          }),
        err => this.setData({ loading: false, error: err.message })
      );
    },

    refreshTotal(lines) {
      this.setData({ lines, total: money.formatFen(totalFen(lines, this.data.catalogue)) });
    },

    onChooseMaterials() {
      this.setData({ choosing: !this.data.choosing });
    },

    onMaterial(e) {
      const id = e.currentTarget.dataset.id;
      const m = this.data.catalogue.filter(c => c.id === id)[0];
      if (!m) return;
      if (this.data.lines.some(l => l.materialId === id)) {
        toast('已添加该材料');
        return;
      }
      this.refreshTotal(this.data.lines.concat([{ materialId: id, name: m.name, unit: m.unit, quantity: '1' }]));
      this.setData({ choosing: false, 'errors.materials': '' });
    },

    onQuantity(e) {
      const index = Number(e.currentTarget.dataset.index);
      const lines = this.data.lines.slice();
      lines[index] = Object.assign({}, lines[index], { quantity: e.detail.value });
      this.refreshTotal(lines);
    },

    onRemoveMaterial(e) {
      const index = Number(e.currentTarget.dataset.index);
      this.refreshTotal(this.data.lines.filter((l, i) => i !== index));
    },

    onInput(e) {
      const field = e.currentTarget.dataset.field;
      this.setData({ [field]: e.detail.value, ['errors.' + field]: '' });
    },

    validate() {
      const errors = {};
      const minutes = Number(this.data.labourMinutes);
      if (!String(this.data.labourMinutes).trim()) errors.labourMinutes = '请填写工时';
      else if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10000) errors.labourMinutes = '工时应为1到10000分钟';
      if (this.data.lines.some(l => !QUANTITY_RE.test(String(l.quantity).trim()) || Number(l.quantity) <= 0)) {
        errors.materials = '材料数量应大于0，最多两位小数';
      }
      return errors;
    },

    onSubmit() {
      if (this.data.submitting || !this.readyToSubmit(this.validate())) return undefined;
      const body = {
        labour_minutes: Number(this.data.labourMinutes),
        materials: this.data.lines.map(l => ({ material_id: l.materialId, quantity: String(l.quantity).trim() })),
        photo_ids: this.photoIds(),
      };
      const note = this.data.note.trim();
      if (note) body.note = note;
      this.setData({ submitting: true });
      return repairsApi.act(this.repairId, 'complete', body).then(
        () => {
          this.setData({ submitting: false });
          wx.showToast({ title: '已提交完工', icon: 'success' });
          wx.navigateBack();
        },
        () => this.setData({ submitting: false })
      );
    },
  }),
});
