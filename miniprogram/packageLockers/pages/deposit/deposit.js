// 快递投递 (couriers; station staff too): the tracking number scanned (wx.scanCode) or typed; the recipient
// searched (a whole phone or 学号/工号, or part of a name: GET /lockers/recipients, each match with class or
// department and a masked phone) and chosen; a bank (online, free compartments by size) and a size →
// POST /lockers/parcels with the chosen recipient_id. The answer: the compartment whose door opened
// ("柜门已打开，放入后请关好柜门"), or the counter's shelf code when the bank has none of the size free.
// Every refusal is said on the page in words (view.errorMessage). Below: my parcels to take back
// (待退回, GET /parcels/to-return) with 取回 (POST /parcels/{id}/return).
const lockersApi = require('../../../api/lockers');
const reload = require('../../../behaviors/reload');
const scan = require('../../../services/scan');
const view = require('../../lib/view');

Component({
  behaviors: [reload], // back on the page or pulled down: the free compartments and the returns again

  data: {
    banks: [],
    bankId: 0,
    sizes: view.sizes({}),
    size: 'M',
    trackingNo: '',
    query: '',
    matches: [],
    searched: false,
    recipient: null,
    busy: false,
    result: null, // {ok: true, counter, compartment, shelf, bank, trackingNo} | {ok: false, message}
    returns: [],
    returnsTotal: 0,
    takingId: 0,
  },

  methods: {
    onLoad() {
      return this.load();
    },

    load() {
      return Promise.all([this.loadBanks(), this.loadReturns()]);
    },

    loadBanks() {
      return lockersApi.banks({ silent: true }).then(
        rows => {
          const banks = rows.map(view.bank);
          const kept = banks.filter(b => b.id === this.data.bankId)[0];
          const bank = kept || banks.filter(b => b.online)[0] || banks[0] || null;
          this.setData({ banks, bankId: bank ? bank.id : 0, sizes: view.sizes(bank ? bank.free : {}) });
        },
        err => this.setData({ result: { ok: false, message: view.errorMessage(err) } })
      );
    },

    loadReturns() {
      return lockersApi.toReturn({ page: 1, page_size: 50 }, { silent: true }).then(
        answer => this.setData({ returns: answer.items.map(view.stationParcel), returnsTotal: answer.pagination.total || answer.items.length }),
        () => undefined // the deposit form still works; the list shows again on the next pull-down
      );
    },

    onScan() {
      return scan.text({ barcodes: true }).then(scanned => {
        if (scanned === null) return; // closed the camera
        const no = view.trackingNo(scanned);
        if (no) this.setData({ trackingNo: no, result: null });
        else this.setData({ result: { ok: false, message: '无法识别运单号，请手动输入' } });
      });
    },

    onTrackingInput(e) {
      this.setData({ trackingNo: String(e.detail.value || '').trim() });
    },

    onQueryInput(e) {
      this.setData({ query: e.detail.value });
    },

    onSearch() {
      const q = String(this.data.query || '').trim();
      if (!q) {
        this.setData({ result: { ok: false, message: '请输入收件人的手机号、学号/工号或姓名' } });
        return undefined;
      }
      return lockersApi.recipients(q, { silent: true }).then(
        rows => {
          const matches = rows.map(view.match);
          this.setData({ matches, searched: true, recipient: matches.length === 1 ? matches[0] : null, result: null });
        },
        err => this.setData({ matches: [], result: { ok: false, message: view.errorMessage(err) } })
      );
    },

    onPick(e) {
      const id = Number(e.currentTarget.dataset.id);
      this.setData({ recipient: this.data.matches.filter(m => m.id === id)[0] || null });
    },

    onBank(e) {
      const id = Number(e.currentTarget.dataset.id);
      const bank = this.data.banks.filter(b => b.id === id)[0];
      if (bank) this.setData({ bankId: id, sizes: view.sizes(bank.free) });
    },

    onSize(e) {
      this.setData({ size: e.currentTarget.dataset.size });
    },

    missing() {
      if (!view.trackingNo(this.data.trackingNo)) return '请扫描或输入运单号（4–40 位字母、数字或 -）';
      if (!this.data.recipient) return '请搜索并选定收件人';
      if (!this.data.bankId) return '请选择快递柜';
      return '';
    },

    onSubmit() {
      if (this.data.busy) return undefined;
      const missing = this.missing();
      if (missing) {
        this.setData({ result: { ok: false, message: missing } });
        return undefined;
      }
      const body = { bank_id: this.data.bankId, tracking_no: this.data.trackingNo, size: this.data.size, recipient_id: this.data.recipient.id };
      this.setData({ busy: true, result: null });
      return lockersApi.deposit(body, { silent: true }).then(
        raw => {
          const counter = raw.storage === 'counter';
          this.setData({
            busy: false,
            trackingNo: '',
            query: '',
            matches: [],
            searched: false,
            recipient: null,
            result: { ok: true, counter, compartment: raw.compartment, shelf: raw.shelf_code, bank: raw.bank_name, trackingNo: raw.tracking_no },
          });
          if (wx.vibrateShort) wx.vibrateShort({ type: 'medium' });
          return this.loadBanks();
        },
        err => this.setData({ busy: false, result: { ok: false, message: view.errorMessage(err) } })
      );
    },

    onTakeBack(e) {
      const id = Number(e.currentTarget.dataset.id);
      if (this.data.takingId) return undefined;
      this.setData({ takingId: id });
      return lockersApi.takeBack(id, { silent: true }).then(
        raw => {
          this.setData({ takingId: 0 });
          wx.showToast({ title: raw.storage === 'counter' ? '已从驿站取回' : '柜门已打开，请取出包裹并关好柜门', icon: 'none' });
          return this.loadReturns();
        },
        err => {
          this.setData({ takingId: 0 });
          wx.showToast({ title: view.errorMessage(err), icon: 'none' });
        }
      );
    },
  },
});
