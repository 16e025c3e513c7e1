// 完工登记: the worker records the materials used (from the catalogue), labour minutes, a note and
// after-photos, then marks the repair done; the reporter is asked to confirm and rate.
const repairsApi = require('../../../api/repairs');
const labels = require('../../../utils/repairs');
const photos = require('../../utils/photos');

const QUANTITY_RE = /^\d{1,4}(\.\d{1,2})?$/;

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

Component({
  data: {
    id: null,
    catalogue: [],
    catalogueNames: [],
    lines: [], // [{material_id, name, unit, unit_cost_fen, quantity}]
    labourMinutes: '',
    note: '',
    photos: [],
    maxPhotos: labels.MAX_PHOTOS,
    costText: labels.costText(0),
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: {
    onLoad(query) {
      this.setData({ id: Number(query && query.id) });
      return repairsApi.materials({ silent: true }).then(
        catalogue => this.setData({ catalogue, catalogueNames: catalogue.map(m => m.name + '（' + labels.costText(m.unit_cost_fen) + '/' + m.unit + '）') }),
        err => this.setData({ formError: err.message })
      );
    },

    onAddMaterial(e) {
      const material = this.data.catalogue[Number(e.detail.value)];
      if (!material) return;
      if (this.data.lines.some(l => l.material_id === material.id)) {
        toast('已添加该材料');
        return;
      }
      const lines = this.data.lines.concat([{ material_id: material.id, name: material.name, unit: material.unit, unit_cost_fen: material.unit_cost_fen, quantity: '1' }]);
      this.setData({ lines, 'errors.materials': '' });
      this.recost(lines);
    },

    onQuantity(e) {
      const index = Number(e.currentTarget.dataset.index);
      this.setData({ ['lines[' + index + '].quantity']: e.detail.value, 'errors.materials': '' });
      this.recost(this.data.lines);
    },

    removeLine(e) {
      const lines = this.data.lines.filter((_, i) => i !== Number(e.currentTarget.dataset.index));
      this.setData({ lines });
      this.recost(lines);
    },

    // An estimate for the worker; the server computes the cost it records.
    recost(lines) {
      const fen = lines.reduce((sum, l) => (QUANTITY_RE.test(l.quantity) ? sum + Math.round(Number(l.quantity) * l.unit_cost_fen) : sum), 0);
      this.setData({ costText: labels.costText(fen) });
    },

    onLabour(e) {
      this.setData({ labourMinutes: e.detail.value, 'errors.labour': '' });
    },

    onNote(e) {
      this.setData({ note: e.detail.value });
    },

    addPhotos() {
      return photos.pickAndUpload(this, 'photos');
    },

    removePhoto(e) {
      photos.remove(this, 'photos', e.currentTarget.dataset.uid);
    },

    validate() {
      const errors = {};
      const minutes = Number(this.data.labourMinutes);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10000) errors.labour = '请填写工时（1–10000 分钟）';
      if (this.data.lines.some(l => !QUANTITY_RE.test(l.quantity) || Number(l.quantity) <= 0)) errors.materials = '数量应大于 0，最多两位小数';
      if (this.data.photos.some(p => p.uploading)) errors.photos = '照片还在上传，请稍候';
      return errors;
    },

    onSubmit() {
      if (this.data.submitting) return undefined;
      const errors = this.validate();
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return undefined;
      this.setData({ submitting: true });
      const payload = {
        labour_minutes: Number(this.data.labourMinutes),
        materials: this.data.lines.map(l => ({ material_id: l.material_id, quantity: l.quantity })),
        note: this.data.note.trim() || null,
        photo_ids: photos.ids(this.data.photos),
      };
      return repairsApi.act(this.data.id, 'complete', payload, { silent: true }).then(
        () => {
          this.setData({ submitting: false });
          wx.showToast({ title: '已完工', icon: 'success' });
          wx.redirectTo({ url: '/packageRepairs/pages/detail/detail?id=' + this.data.id });
        },
        err => this.setData({ submitting: false, formError: err.message })
      );
    },
  },
});
