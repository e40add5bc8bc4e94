import{q as p,E as t}from"./Dx9h_P8n.js";import{B as c}from"./Ckb_cD1M.js";function E(r,s,...a){var e=new c(r);p(()=>{const n=s()??null;e.ensure(n,n&&(o=>n(o,...a)))},t)}export{E as s};
