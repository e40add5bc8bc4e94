import{h as p,E as t}from"./Cx9FZohW.js";import{B as c}from"./B_dC6LBE.js";function E(r,s,...a){var e=new c(r);p(()=>{const n=s()??null;e.ensure(n,n&&(o=>n(o,...a)))},t)}export{E as s};
