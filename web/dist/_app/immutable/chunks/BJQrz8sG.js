import{h as p,E as t}from"./D8XO_i1y.js";import{B as c}from"./ByJTf7zA.js";function E(r,s,...a){var e=new c(r);p(()=>{const n=s()??null;e.ensure(n,n&&(o=>n(o,...a)))},t)}export{E as s};
